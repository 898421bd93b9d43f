/** A configuration problem found at start-up; the message names the variable or option. */
export class ClustershazbotConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClustershazbotConfigError';
  }
}

/**
 * Thrown by the plain-function API with the HTTP status an Express app should answer:
 * 400 (invalid body), 401 (bad credentials), 403 (signed for another cluster), 429 (too many
 * failed authentications from this client), 503 (not started).
 */
export class ClustershazbotRequestError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 429 | 503,
    message: string,
    /** Field messages for a 400. */
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'ClustershazbotRequestError';
  }
}
