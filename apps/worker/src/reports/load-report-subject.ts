import type { Database } from "@balansity/db";
import type { Kysely } from "kysely";

/** An assessment with its owner's profile, whatever its status. */
export interface ReportSubject {
  readonly status: string;
  readonly assessment: {
    readonly id: string;
    readonly userId: string;
    /** Which questionnaire, e.g. `wellbeing`. */
    readonly kind: string;
    readonly title: string | null;
    /** As stored; the report checks it against the contract of `kind`. */
    readonly results: unknown;
    /** What the user answered; scored when the app saved no valid results and the kind has a scorer. */
    readonly answers: unknown;
    readonly completedAt: Date | null;
  };
  readonly profile: { readonly email: string; readonly fullName: string | null };
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
      "a.results",
      "a.answers",
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
      results: row.results,
      answers: row.answers,
      completedAt: row.completed_at,
    },
    profile: { email: row.email, fullName: row.full_name },
    // profiles.locale is constrained to these two by its check constraint.
    locale: row.locale === "en" ? "en" : "ru",
    timezone: row.timezone,
  };
}
