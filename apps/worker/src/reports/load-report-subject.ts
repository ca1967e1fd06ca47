import type { Queryable } from "@balansity/queues/consumer";
import type { ReportAssessment, ReportProfile } from "./report-renderer.ts";

/** An assessment with its owner's profile, whatever its status. */
export interface ReportSubject {
  readonly status: string;
  readonly assessment: Omit<ReportAssessment, "completedAt"> & { readonly completedAt: Date | null };
  readonly profile: ReportProfile;
  readonly locale: "ru" | "en";
  readonly timezone: string;
}

interface SubjectRow {
  id: string;
  user_id: string;
  kind: string;
  title: string | null;
  status: string;
  answers: Record<string, unknown>;
  results: Record<string, unknown> | null;
  completed_at: Date | null;
  email: string;
  full_name: string | null;
  locale: "ru" | "en";
  timezone: string;
}

/** Loads an assessment and its owner's profile (every assessment has one: user_id references profiles). */
export async function loadReportSubject(
  db: Queryable,
  assessmentId: string,
): Promise<ReportSubject | undefined> {
  const result = await db.query(
    `select a.id, a.user_id, a.kind, a.title, a.status, a.answers, a.results, a.completed_at,
            p.email, p.full_name, p.locale, p.timezone
       from public.assessments a
       join public.profiles p on p.id = a.user_id
      where a.id = $1`,
    [assessmentId],
  );
  const row = result.rows[0] as SubjectRow | undefined;
  if (!row) return undefined;
  return {
    status: row.status,
    assessment: {
      id: row.id,
      userId: row.user_id,
      kind: row.kind,
      title: row.title,
      answers: row.answers,
      results: row.results,
      completedAt: row.completed_at,
    },
    profile: { id: row.user_id, email: row.email, fullName: row.full_name },
    locale: row.locale,
    timezone: row.timezone,
  };
}
