import { isUuid, refuseIssues } from "./check-arguments-browser.ts";
import { toReportRequestError } from "./frontend-errors.ts";
import { type QueueTransport, toMsgId } from "./queue-transport.ts";

/**
 * Asks for a PDF report of the signed-in user's own completed checkup, through
 * `public.request_assessment_report`: the one queue RPC the browser may call (role authenticated).
 * The database checks that the checkup is the caller's (`auth.uid()`) and completed; each request is a
 * new report (and a new report_ready email), at most `report_request_limit` per
 * `report_request_window` per user (automation.settings; 3 a day by default), then SQLSTATE PT429.
 *
 * ### Examples
 * ```ts
 * import { createClient } from "@supabase/supabase-js";
 * import { requestAssessmentReport } from "@balansity/queues";
 * import { supabaseTransport } from "@balansity/queues/supabase";
 *
 * const supabase = createClient(SUPABASE_URL, SUPABASE_ANON_KEY); // the user is signed in
 * const { msgId } = await requestAssessmentReport(supabaseTransport(supabase), assessmentId);
 * ```
 *
 * @throws {InvalidMessageError} when `assessmentId` is not a UUID; nothing is sent.
 * @throws {NotSignedInError} no signed-in user.
 * @throws {NotOwnerError} the checkup does not exist or is not the caller's.
 * @throws {NotCompletedError} the checkup is not completed yet.
 * @throws {RateLimitedError} past the per-user limit; `retryAt` says when the next request is accepted.
 * @throws {QueueRpcError} anything else (e.g. `reason: "unavailable"`: the API could not be reached).
 */
export async function requestAssessmentReport(
  transport: QueueTransport,
  assessmentId: string,
  options: { readonly now?: () => Date } = {},
): Promise<{ readonly msgId: number }> {
  refuseIssues("request_assessment_report", [
    isUuid(assessmentId) ? undefined : { path: "assessment_id", message: "must be a UUID" },
  ]);
  let result: unknown;
  try {
    result = await transport.call("request_assessment_report", { assessment_id: assessmentId });
  } catch (error) {
    throw toReportRequestError(error, assessmentId, options.now ?? (() => new Date()));
  }
  return { msgId: toMsgId("request_assessment_report", result) };
}
