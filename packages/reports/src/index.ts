export { FsReportStore, type FsReportStoreOptions } from "./fs-report-store.ts";
export { formatCompletionDate, type ReportLocale, reportCopy, reportLocales } from "./report-copy.ts";
export { ReportNotFoundError, ReportResultsError, ReportStorageError } from "./report-errors.ts";
// The renderer itself is "@balansity/reports/pdf": it loads react-pdf, its layout engine and the fonts
// (about 50 MB), which a process that only stores or reads reports does without.
export type { RenderedReport, ReportInput } from "./report-input.ts";
export { assertReportPath, type ReportStore, type SignedReportUrl } from "./report-store.ts";
export {
  appResultsSchema,
  type CheckupKind,
  type CheckupResults,
  checkupKinds,
  checkupResultsSchemas,
  checkupScales,
  chooseReportResults,
  hasScorer,
  isCheckupKind,
  levelOf,
  maxAppScales,
  parseCheckupResults,
  type ReportResultsSource,
  type ResultLevel,
} from "./results-contract.ts";
export { SupabaseReportStore, type SupabaseReportStoreOptions } from "./supabase-report-store.ts";
