import type { ReportLocale } from "./report-copy.ts";

/** What a report is made of: the completed checkup and its owner's name, language and zone. */
export interface ReportInput {
  readonly assessment: {
    readonly id: string;
    readonly kind: string;
    readonly title: string | null;
    /**
     * The results to show (`chooseReportResults`), checked against the contract of `kind` before
     * rendering; `null`: a report without scores (a kind we do not score, and nothing valid saved).
     */
    readonly results: unknown;
    readonly completedAt: Date;
  };
  readonly userName: string | null;
  readonly locale: ReportLocale;
  /** IANA zone the completion date is shown in. */
  readonly timezone: string;
}

export interface RenderedReport {
  readonly contentType: "application/pdf";
  readonly body: Uint8Array;
  /** e.g. `balansity-wellbeing-2026-11-25.pdf` (the date in the user's zone). */
  readonly fileName: string;
  readonly rendererVersion: string;
}
