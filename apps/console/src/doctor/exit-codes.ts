/** Exit codes of the console CLI. */
export const exitCodes = {
  /** Every check passed (warnings allowed). */
  ok: 0,
  /** At least one check failed, or the database could not be reached. */
  failed: 1,
  /** The command line was wrong. */
  usage: 2,
  /** EX_CONFIG (sysexits.h): the database configuration is invalid; nothing was tried. */
  config: 78,
} as const;
