/**
 * `results` of a checkup do not fit the contract of its kind: retrying cannot help, so the worker
 * sends the job to the dead-letter queue with this message (it names every field that is wrong).
 */
export class ReportResultsError extends Error {
  readonly code = "report_results_invalid";
  /** Dotted paths of the fields that are wrong, e.g. `results.scales.mood`. */
  readonly fields: readonly string[];
  constructor(message: string, fields: readonly string[]) {
    super(message);
    this.name = "ReportResultsError";
    this.fields = fields;
  }
}

/** Storing or reading a report failed (disk full, Storage 5xx, network): worth retrying. */
export class ReportStorageError extends Error {
  readonly code = "report_storage_failed";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ReportStorageError";
  }
}

/** A report that was never stored (or was deleted): not worth retrying. */
export class ReportNotFoundError extends Error {
  readonly code = "report_not_found";
  constructor(path: string) {
    super(`no stored report at ${path}`);
    this.name = "ReportNotFoundError";
  }
}
