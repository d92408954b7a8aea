/**
 * The logging surface core modules depend on. Powertools' Logger satisfies it; tests pass a capturing one.
 * Core code logs reasons and public ids only — never a credential, hash or pepper.
 */
export interface Log {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** Name and message of an error, for logs: SDK errors can carry request data, so nothing else is kept. */
export function errorSummary(error: unknown): { name: string; message: string } {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: typeof error, message: String(error) };
}
