import { setImmediate as afterPendingCallbacks } from "node:timers/promises";
import { renderToBuffer } from "@react-pdf/renderer";
import { createElement } from "react";
import { formatCompletionDate, isoDateIn, type ReportCopy, reportCopy } from "./report-copy.ts";
import { ReportDocument } from "./report-document.tsx";
import { registerReportFonts, resetReportGlyphCache } from "./report-fonts.ts";
import type { RenderedReport, ReportInput } from "./report-input.ts";
import { type CheckupKind, parseCheckupResults } from "./results-contract.ts";

export type { RenderedReport, ReportInput } from "./report-input.ts";

/** Bump when the layout or the wording changes: recorded per report (public.reports.renderer_version). */
export const reportRendererVersion = "pdf-2";

let queue: Promise<void> = Promise.resolve();

/**
 * Renders a checkup report as PDF. Throws `ReportResultsError` (naming the field) when the results
 * do not fit the contract of the checkup's kind; nothing is rendered then. Results `null` render a
 * report without scores: who, which checkup, when, and that it has no scores in the report.
 *
 * ### Examples
 * ```ts
 * const report = await renderReportPdf({
 *   assessment: { id, kind: "wellbeing", title: "Общее самочувствие", results, completedAt: new Date() },
 *   userName: "Анна Иванова",
 *   locale: "ru",
 *   timezone: "Europe/Moscow",
 * });
 * await writeFile(report.fileName, report.body);
 * ```
 */
export async function renderReportPdf(input: ReportInput): Promise<RenderedReport> {
  const kind = input.assessment.kind;
  const results =
    input.assessment.results === null ? null : parseCheckupResults(kind, input.assessment.results);
  registerReportFonts();
  const copy = reportCopy[input.locale];
  const document = createElement(ReportDocument, {
    copy,
    language: input.locale,
    userName: input.userName,
    checkupTitle: input.assessment.title?.trim() || kindName(copy, kind),
    kindName: kindName(copy, kind),
    completedOn: formatCompletionDate(input.assessment.completedAt, input.locale, input.timezone),
    results,
    createdAt: input.assessment.completedAt,
  });
  // renderToBuffer's type asks for a <Document> element; ReportDocument returns one.
  // One document at a time: the fonts' glyph cache is shared and reset per document (see
  // resetReportGlyphCache). Rendering is CPU-bound, so taking turns costs no throughput.
  const rendering = queue.then(async () => {
    resetReportGlyphCache();
    try {
      return await renderToBuffer(document as Parameters<typeof renderToBuffer>[0]);
    } finally {
      // react-pdf's reconciler puts each document's React root (with its whole tree, ~65 KB) on
      // React's list of scheduled roots, which only a scheduler task drains, and React's scheduler
      // runs its tasks from setImmediate. A caller that renders report after report without the
      // event loop reaching its check phase piled up every document; waiting one setImmediate here
      // lets that task run first, so at most one document's tree is alive, however we are called.
      await afterPendingCallbacks();
    }
  });
  queue = rendering.then(
    () => undefined,
    () => undefined,
  );
  const buffer = await rendering;
  return {
    contentType: "application/pdf",
    body: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength),
    fileName: `balansity-${kind}-${isoDateIn(input.assessment.completedAt, input.timezone)}.pdf`,
    rendererVersion: reportRendererVersion,
  };
}

/** The kind's name in the report's language; a kind we do not name is shown as the app stores it. */
function kindName(copy: ReportCopy, kind: string): string {
  return Object.hasOwn(copy.kinds, kind) ? copy.kinds[kind as CheckupKind] : kind;
}
