import type { Database } from "@balansity/db";
import type { Kysely } from "kysely";
import type { ReportAssessment, ReportProfile } from "./report-renderer.ts";

/** An assessment with its owner's profile, whatever its status. */
export interface ReportSubject {
  readonly status: string;
  readonly assessment: Omit<ReportAssessment, "completedAt"> & { readonly completedAt: Date | null };
  readonly profile: ReportProfile;
  readonly locale: "ru" | "en";
  readonly timezone: string;
}

/** Loads an assessment and its owner's profile (every assessment has one: user_id references profiles). */
export async function loadReportSubject(
  db: Kysely<Database>,
  assessmentId: string,
): Promise<ReportSubject | undefined> {
  const row = await db
    .selectFrom("assessments as a")
    .innerJoin("profiles as p", "p.id", "a.user_id")
    .select([
      "a.id",
      "a.user_id",
      "a.kind",
      "a.title",
      "a.status",
      "a.answers",
      "a.results",
      "a.completed_at",
      "p.email",
      "p.full_name",
      "p.locale",
      "p.timezone",
    ])
    .where("a.id", "=", assessmentId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    status: row.status,
    assessment: {
      id: row.id,
      userId: row.user_id,
      kind: row.kind,
      title: row.title,
      answers: asObject(row.answers) ?? {},
      results: asObject(row.results),
      completedAt: row.completed_at,
    },
    profile: { id: row.user_id, email: row.email, fullName: row.full_name },
    // profiles.locale is constrained to these two by its check constraint.
    locale: row.locale === "en" ? "en" : "ru",
    timezone: row.timezone,
  };
}

/** answers and results are JSON objects (the assessments table's checks); anything else reads as absent. */
function asObject(value: unknown): Readonly<Record<string, unknown>> | null {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}
