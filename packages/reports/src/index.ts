export { FsReportStore, type FsReportStoreOptions } from "./fs-report-store.ts";
export {
  type RenderedReport,
  type ReportInput,
  renderReportPdf,
  reportRendererVersion,
} from "./render-report-pdf.ts";
export { formatCompletionDate, type ReportLocale, reportCopy, reportLocales } from "./report-copy.ts";
export { ReportNotFoundError, ReportResultsError, ReportStorageError } from "./report-errors.ts";
export { assertReportPath, type ReportStore, type SignedReportUrl } from "./report-store.ts";
export {
  type CheckupKind,
  type CheckupResults,
  checkupKinds,
  checkupResultsSchemas,
  checkupScales,
  isCheckupKind,
  levelOf,
  parseCheckupResults,
  type ResultLevel,
} from "./results-contract.ts";
export { SupabaseReportStore, type SupabaseReportStoreOptions } from "./supabase-report-store.ts";
