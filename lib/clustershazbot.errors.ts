/**
 * A configuration problem found at start-up; the message names each variable and option to fix
 * (all of them when there are several, one a line). It carries no stack trace: where the library
 * read the value says nothing to the user, and Nest prints the stack under the message.
 */
export class ClustershazbotConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClustershazbotConfigError';
    this.stack = `${this.name}: ${message}`;
  }
}

/**
 * Thrown by the plain-function API with the HTTP status an Express app should answer:
 * 400 (invalid body), 401 (bad credentials), 403 (signed for another cluster), 413 (body
 * larger than `maxBodyBytes`), 429 (a client with too many failed authentications, failing
 * again), 503 (not started, or too many signed requests within the signature window).
 */
export class ClustershazbotRequestError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 413 | 429 | 503,
    message: string,
    /** Field messages for a 400. */
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'ClustershazbotRequestError';
  }
}
