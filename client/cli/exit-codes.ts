/** The CLI's exit codes (documented in `--help` and the README); scripts branch on them. */
export const EXIT = {
  OK: 0,
  /** Any other API error, or the API could not be reached. */
  ERROR: 1,
  /** Bad command line or configuration. */
  USAGE: 2,
  /** Authentication or permission failure (401, 403, no credential, login failed). */
  AUTH: 3,
  NOT_FOUND: 4,
  RATE_LIMITED: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
