import { randomBytes } from "node:crypto";
import { FsReportStore, type ReportStore, SupabaseReportStore } from "@balansity/reports";
import type { ReportsConfig } from "../config/worker-config.ts";

/**
 * The report store the configuration asks for: `fs` (a folder; development and tests) or
 * `supabase` (the private Storage bucket; production).
 *
 * ### Examples
 * ```ts
 * const store = createReportStore(config.reports);
 * ```
 */
export function createReportStore(config: ReportsConfig): ReportStore {
  const storage = config.storage;
  if (storage.kind === "supabase") {
    return new SupabaseReportStore({
      url: storage.url,
      serviceRoleKey: storage.serviceRoleKey,
      bucket: storage.bucket,
    });
  }
  return new FsReportStore({
    root: storage.dir,
    publicUrl: storage.publicUrl,
    // Outside production REPORT_LINK_SECRET may be unset: a secret of this process's own then.
    linkSecret: storage.linkSecret ?? randomBytes(32).toString("base64url"),
  });
}
