/** Why a transfer stopped before or while copying. */
export type TransferErrorCode =
  /** The command line is not usable (missing --from, a bad --schema-map...). */
  | "transfer_usage"
  /** The tables cannot be copied as asked (missing in the target, no primary key, a type mismatch...). */
  | "transfer_plan_invalid"
  /** The backup of the target could not be written; nothing was copied. */
  | "transfer_backup_failed"
  /** `--create-tables` could not create a missing table; nothing was created or copied. */
  | "transfer_create_failed";

/** A transfer problem; lists every issue found at once, one per line. */
export class TransferError extends Error {
  readonly code: TransferErrorCode;
  readonly issues: readonly string[];

  constructor(code: TransferErrorCode, issues: readonly string[]) {
    super(issues.length === 1 ? (issues[0] ?? "") : issues.map((issue) => `- ${issue}`).join("\n"));
    this.name = "TransferError";
    this.code = code;
    this.issues = Object.freeze([...issues]);
  }
}
