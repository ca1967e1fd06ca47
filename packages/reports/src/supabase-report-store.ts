import { StorageClient } from "@supabase/storage-js";
import { ReportNotFoundError, ReportStorageError } from "./report-errors.ts";
import { assertReportPath, type ReportStore, type SignedReportUrl } from "./report-store.ts";

export interface SupabaseReportStoreOptions {
  /** The project URL, e.g. `https://<ref>.supabase.co` (Storage is under `/storage/v1`). */
  readonly url: string;
  /** The service role key: the bucket is private and only the server writes or signs. */
  readonly serviceRoleKey: string;
  /** Defaults to `reports`. */
  readonly bucket?: string;
  readonly fetch?: typeof fetch;
  readonly now?: () => Date;
}

/**
 * Reports in a private Supabase Storage bucket, through supabase-js's storage client: upload with
 * upsert (a retried job replaces its object), signed URLs for the email, download for attachments.
 *
 * ### Examples
 * ```ts
 * const store = new SupabaseReportStore({ url: "https://abc.supabase.co", serviceRoleKey });
 * await store.put("u1/a1/report.pdf", body, "application/pdf");
 * ```
 */
export class SupabaseReportStore implements ReportStore {
  readonly kind = "supabase";
  readonly #bucket;
  readonly #now: () => Date;

  constructor(options: SupabaseReportStoreOptions) {
    const client = new StorageClient(
      `${options.url.replace(/\/+$/, "")}/storage/v1`,
      { apikey: options.serviceRoleKey, Authorization: `Bearer ${options.serviceRoleKey}` },
      options.fetch,
    );
    this.#bucket = client.from(options.bucket ?? "reports");
    this.#now = options.now ?? (() => new Date());
  }

  async put(path: string, body: Uint8Array, contentType: string): Promise<void> {
    assertReportPath(path);
    const { error } = await this.#bucket.upload(path, body, {
      contentType,
      upsert: true,
      cacheControl: "3600",
    });
    if (error) throw storageError("upload", path, error);
  }

  async signedUrl(path: string, expiresInSeconds: number): Promise<SignedReportUrl> {
    assertReportPath(path);
    const requestedAt = this.#now();
    const { data, error } = await this.#bucket.createSignedUrl(path, expiresInSeconds);
    if (error) throw storageError("sign", path, error);
    return { url: data.signedUrl, expiresAt: new Date(requestedAt.getTime() + expiresInSeconds * 1000) };
  }

  async get(path: string): Promise<Uint8Array> {
    assertReportPath(path);
    const { data, error } = await this.#bucket.download(path);
    if (error) throw storageError("download", path, error);
    return new Uint8Array(await data.arrayBuffer());
  }
}

function storageError(action: string, path: string, error: Error): Error {
  const status = "status" in error ? Number(error.status) : undefined;
  const statusCode = "statusCode" in error ? String(error.statusCode) : undefined;
  // Storage answers a missing object with 404, or with 400 and statusCode "404" (older servers).
  if (status === 404 || statusCode === "404") return new ReportNotFoundError(path);
  return new ReportStorageError(
    `Supabase Storage ${action} of ${path} failed${status ? ` (HTTP ${status})` : ""}: ${error.message}`,
    { cause: error },
  );
}
