/** Exit codes of the `balansity` CLI (sysexits.h where one fits). */
export const exitCodes = {
  /** Done (doctor: every check passed, warnings allowed). */
  ok: 0,
  /** Failed or refused: a check failed, the database refused (not an operator), nothing to act on. */
  failed: 1,
  /** The command line was wrong (unknown command or option, a bad argument, a missing --yes). */
  usage: 2,
  /** EX_UNAVAILABLE: the database could not be reached. */
  unavailable: 69,
  /** EX_CONFIG: the database configuration is missing or invalid; nothing was tried. */
  config: 78,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];
