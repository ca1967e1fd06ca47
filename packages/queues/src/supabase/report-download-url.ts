import type { SupabaseClient } from "@supabase/supabase-js";
import { isUuid, refuseIssues } from "../check-arguments-browser.ts";
import { QueueRpcError } from "../errors.ts";
import { NotOwnerError, NotSignedInError } from "../frontend-errors.ts";

/** The part of a supabase-js client a download link needs: the reports table and Storage. */
export type ReportDownloadClient = Pick<SupabaseClient, "from" | "storage">;

export interface ReportDownloadUrlOptions {
  /** How long the link works, in seconds: 60 to 86 400 (a day); default 3600. */
  readonly expiresIn?: number;
  /** The private bucket reports are stored in; default `reports`. */
  readonly bucket?: string;
  readonly now?: () => Date;
}

/**
 * A fresh signed link to one of the signed-in user's reports (rows of `public.reports`), valid for
 * `expiresIn` seconds: for when the emailed link has expired. It asks for nothing new (no report is
 * rendered, no email sent, the daily report limit is not touched), so it may be called at any time.
 *
 * Two checks, both on the server: the row is read through RLS (`reports_select_own`: only the
 * owner sees it), and Storage signs the object only for its owner (the `reports_owner_read` policy
 * on `storage.objects`, migration 047). In the devstack the API signs with an expiring HMAC and its
 * file server checks it.
 *
 * ### Examples
 * ```ts
 * const { url, expiresAt } = await createReportDownloadUrl(supabase, report.id);
 * window.open(url);
 * ```
 *
 * @throws {InvalidMessageError} `reportId` is not a UUID or `expiresIn` is out of range; nothing is sent.
 * @throws {NotSignedInError} no signed-in user.
 * @throws {NotOwnerError} the report does not exist or is not the caller's (the same answer for both).
 * @throws {QueueRpcError} anything else (`reason: "unavailable"` when the API could not be reached).
 */
export async function createReportDownloadUrl(
  client: ReportDownloadClient,
  reportId: string,
  options: ReportDownloadUrlOptions = {},
): Promise<{ readonly url: string; readonly expiresAt: Date }> {
  const expiresIn = options.expiresIn ?? 3600;
  const bucket = options.bucket ?? "reports";
  refuseIssues("report download link", [
    isUuid(reportId) ? undefined : { path: "report_id", message: "must be a UUID" },
    Number.isInteger(expiresIn) && expiresIn >= 60 && expiresIn <= 86_400
      ? undefined
      : { path: "expires_in", message: "must be a whole number from 60 to 86400" },
    /^[a-z0-9][a-z0-9_-]{1,62}$/.test(bucket)
      ? undefined
      : { path: "bucket", message: "must be a bucket name" },
  ]);
  const now = options.now ?? (() => new Date());

  const row = await client.from("reports").select("storage_path").eq("id", reportId).limit(1);
  if (row.error) {
    const failure = new QueueRpcError({
      rpc: "reports",
      message: row.error.message,
      sqlState: row.error.code || undefined,
      details: row.error.details || undefined,
      hint: row.error.hint || undefined,
      status: row.status,
    });
    throw failure.reason === "permission_denied" ? new NotSignedInError("reports", failure) : failure;
  }
  const path = (row.data as { storage_path?: unknown }[])[0]?.storage_path;
  if (typeof path !== "string") throw new NotOwnerError("reports", reportId);

  const signed = await client.storage.from(bucket).createSignedUrl(path, expiresIn);
  if (signed.error) {
    const status = (signed.error as { status?: unknown }).status;
    const failure = new QueueRpcError({
      rpc: "storage.createSignedUrl",
      message: signed.error.message,
      status: typeof status === "number" ? status : undefined,
      cause: signed.error,
    });
    // Storage answers a policy's refusal as "not found" (400/404): the object is not the caller's.
    if (status === 400 || status === 403 || status === 404) {
      throw new NotOwnerError("storage.createSignedUrl", reportId, failure);
    }
    throw failure.reason === "permission_denied"
      ? new NotSignedInError("storage.createSignedUrl", failure)
      : failure;
  }
  return { url: signed.data.signedUrl, expiresAt: new Date(now().getTime() + expiresIn * 1000) };
}
