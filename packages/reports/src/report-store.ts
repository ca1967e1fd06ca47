/** A link the owner can open from the email. */
export interface SignedReportUrl {
  /** An absolute http(s) URL. */
  readonly url: string;
  readonly expiresAt: Date;
}

/**
 * Where rendered reports are kept: the local filesystem in development, Supabase Storage (a private
 * bucket) in production. Paths are relative (`<user_id>/<assessment_id>/<name>.pdf`); `put` replaces
 * an object at the same path, so a retried job stores its report once. Failures throw
 * `ReportStorageError` (retry) or `ReportNotFoundError` (`get` of a path never stored).
 *
 * ### Examples
 * ```ts
 * await store.put("u1/a1/report.pdf", body, "application/pdf");
 * const { url, expiresAt } = await store.signedUrl("u1/a1/report.pdf", 7 * 24 * 3600);
 * const same = await store.get("u1/a1/report.pdf");
 * ```
 */
export interface ReportStore {
  /** `fs` or `supabase`, for logs. */
  readonly kind: string;
  put(path: string, body: Uint8Array, contentType: string): Promise<void>;
  signedUrl(path: string, expiresInSeconds: number): Promise<SignedReportUrl>;
  get(path: string): Promise<Uint8Array>;
}

/** Refuses paths that could leave the store's root or bucket folder (`..`, absolute, empty parts). */
export function assertReportPath(path: string): void {
  const parts = path.split("/");
  if (!path || path.startsWith("/") || parts.some((part) => part === "" || part === "." || part === "..")) {
    throw new TypeError(`report path "${path}" must be relative, without empty, "." or ".." parts`);
  }
  if (!/^[\w./-]+$/.test(path)) {
    throw new TypeError(`report path "${path}" may contain only letters, digits, "_", "-", "." and "/"`);
  }
}
