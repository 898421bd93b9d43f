/** Where the engine reports what an operator may want to know. */
export interface EngineLog {
  warn(message: string): void;
  debug(message: string): void;
}

/** Calls every listener with every change; a listener that throws is logged, never propagated. */
export function notifyAll<T>(listeners: Iterable<(change: T) => void>, changes: readonly T[], kind: string, log?: EngineLog): void {
  for (const change of changes) {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (error) {
        log?.warn(`${kind} listener threw: ${errorText(error)}`);
      }
    }
  }
}

/** A message for logs from anything thrown. */
export function errorText(error: unknown): string {
  return typeof error === 'object' && error !== null && typeof (error as Error).message === 'string' ? (error as Error).message : String(error);
}
