/** Where a stored report can be downloaded. */
export interface StoredReport {
  /** An absolute http(s) URL the owner can open from the email (a signed URL, say). */
  readonly url: string;
  /** When the URL stops working, if it does. */
  readonly expiresAt?: Date;
}

/**
 * Keeps rendered reports (Supabase Storage, S3, ...). `put` with the same key replaces the object,
 * so a retried job stores its report once.
 *
 * ### Examples
 * ```ts
 * const { url } = await store.put("<user_id>/<assessment_id>/report.pdf", body, "application/pdf");
 * ```
 */
export interface ReportStore {
  put(key: string, body: Uint8Array, contentType: string): Promise<StoredReport>;
}
