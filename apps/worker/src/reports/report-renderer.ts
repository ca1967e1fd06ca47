/** A completed checkup, as a report shows it. */
export interface ReportAssessment {
  readonly id: string;
  readonly userId: string;
  /** Which questionnaire, e.g. `wellbeing`. */
  readonly kind: string;
  readonly title: string | null;
  readonly answers: Readonly<Record<string, unknown>>;
  readonly results: Readonly<Record<string, unknown>> | null;
  readonly completedAt: Date;
}

/** The checkup's owner. */
export interface ReportProfile {
  readonly id: string;
  readonly email: string;
  readonly fullName: string | null;
}

export interface ReportRenderInput {
  readonly assessment: ReportAssessment;
  readonly profile: ReportProfile;
  /** The owner's language (profiles.locale). */
  readonly locale: "ru" | "en";
  /** IANA zone dates are shown in (profiles.timezone). */
  readonly timezone: string;
}

export interface RenderedReport {
  /** e.g. `application/pdf`. */
  readonly contentType: string;
  readonly body: Uint8Array;
  /** A plain file name without folders, e.g. `balansity-checkup-2026-11-25.pdf`. */
  readonly fileName: string;
}

/**
 * Turns a completed checkup into a document (the PDF renderer is its own piece of work). Throw
 * `PermanentError` for input that can never be rendered; anything else is retried.
 *
 * ### Examples
 * ```ts
 * const report = await renderer.render({ assessment, profile, locale: "ru", timezone: "Europe/Moscow" });
 * await store.put(`${assessment.userId}/${assessment.id}/${report.fileName}`, report.body, report.contentType);
 * ```
 */
export interface ReportRenderer {
  render(input: ReportRenderInput): Promise<RenderedReport>;
}
