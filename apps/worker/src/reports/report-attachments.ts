import { ReportNotFoundError, ReportStorageError, type ReportStore } from "@balansity/reports";
import { PermanentError, RetryableError } from "../consumer/errors.ts";

/** What the email processor needs to attach a stored file. */
export interface AttachmentSource {
  load(storagePath: string): Promise<Uint8Array>;
}

/**
 * Attachments (the report PDF) read from the report store, with the worker's error classes: a file
 * that is not there will not appear by retrying; a store that is down will come back.
 */
export function reportAttachments(store: ReportStore): AttachmentSource {
  return {
    async load(storagePath) {
      try {
        return await store.get(storagePath);
      } catch (error) {
        if (error instanceof ReportNotFoundError) {
          throw new PermanentError(error.code, `attachment ${storagePath}: ${error.message}`, {
            cause: error,
          });
        }
        if (error instanceof ReportStorageError) {
          throw new RetryableError(error.code, error.message, { cause: error });
        }
        throw error;
      }
    },
  };
}
