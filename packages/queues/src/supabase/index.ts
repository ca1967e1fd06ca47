// @balansity/queues/supabase: what needs a supabase-js client. Browser-safe (supabase-js is the caller's).
export {
  createReportDownloadUrl,
  type ReportDownloadClient,
  type ReportDownloadUrlOptions,
} from "./report-download-url.ts";
export { type SupabaseRpcClient, supabaseTransport } from "./supabase-transport.ts";
