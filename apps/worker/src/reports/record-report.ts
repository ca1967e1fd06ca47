import type { Database } from "@balansity/db";
import type { Kysely } from "kysely";

export interface ReportRecord {
  readonly assessmentId: string;
  readonly userId: string;
  readonly storagePath: string;
  readonly sizeBytes: number;
  readonly sha256: string;
  readonly rendererVersion: string;
}

/**
 * Records a stored report in public.reports (what the owner sees through the API). One row per
 * storage path, i.e. per report job: a retried job updates its row instead of adding one.
 */
export async function recordReport(db: Kysely<Database>, report: ReportRecord): Promise<void> {
  await db
    .insertInto("reports")
    .values({
      assessment_id: report.assessmentId,
      user_id: report.userId,
      storage_path: report.storagePath,
      size_bytes: report.sizeBytes,
      sha256: report.sha256,
      renderer_version: report.rendererVersion,
    })
    .onConflict((conflict) =>
      conflict.column("storage_path").doUpdateSet({
        size_bytes: report.sizeBytes,
        sha256: report.sha256,
        renderer_version: report.rendererVersion,
      }),
    )
    .execute();
}
