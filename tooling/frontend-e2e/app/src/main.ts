// A fresh frontend as the Balansity app would write it: supabase-js for the session and the data,
// @balansity/queues for the report calls and their typed errors. It runs one scenario and writes
// what happened as JSON into #result, which the test reads.
import {
  NotOwnerError,
  NotSignedInError,
  RateLimitedError,
  requestAssessmentReport,
} from "@balansity/queues";
import { createReportDownloadUrl, supabaseTransport } from "@balansity/queues/supabase";
import { createClient } from "@supabase/supabase-js";

const supabase = createClient(import.meta.env.VITE_SUPABASE_URL, import.meta.env.VITE_SUPABASE_ANON_KEY, {
  auth: { persistSession: true, autoRefreshToken: false, detectSessionInUrl: true, flowType: "implicit" },
});
const otherReportId = new URLSearchParams(location.search).get("other") ?? "";

// The published declarations are what tsc checks this against: a wrong argument must not compile.
// @ts-expect-error assessmentId is a string
void requestAssessmentReport(supabaseTransport(supabase), 42).catch(() => undefined);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForReport(assessmentId: string): Promise<{ id: string }> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const { data, error } = await supabase
      .from("reports")
      .select("id, assessment_id, created_at")
      .eq("assessment_id", assessmentId)
      .order("created_at", { ascending: false })
      .limit(1);
    if (error) throw new Error(`reading reports: ${error.message}`);
    if (data[0]) return data[0] as { id: string };
    await sleep(250);
  }
  throw new Error(`no report of ${assessmentId} within 120 s`);
}

async function run() {
  const { data: session } = await supabase.auth.getSession();
  const userId = session.session?.user.id;
  if (!userId) throw new Error("not signed in");

  // 1. Complete the open checkup (the database scores it and queues the report).
  const open = await supabase.from("assessments").select("id").eq("status", "in_progress").limit(1);
  if (open.error || !open.data[0]) throw new Error(`no open checkup: ${open.error?.message}`);
  const assessmentId = (open.data[0] as { id: string }).id;
  const completed = await supabase
    .from("assessments")
    .update({ status: "completed", answers: { q1: 4, q2: 5, q3: 3, q4: 4, q5: 5, q6: 4 } })
    .eq("id", assessmentId)
    .select("id, status");
  if (completed.error) throw new Error(`completing: ${completed.error.message}`);

  // 2. The worker renders it: the row appears.
  const report = await waitForReport(assessmentId);

  // 3. A fresh signed link, downloaded.
  const link = await createReportDownloadUrl(supabase, report.id, { expiresIn: 300 });
  const download = await fetch(link.url);
  const bytes = new Uint8Array(await download.arrayBuffer());
  const magic = new TextDecoder().decode(bytes.slice(0, 5));

  // 4. Someone else's report: no link.
  const foreign = await createReportDownloadUrl(supabase, otherReportId).then(
    () => "got a link",
    (error: unknown) => (error instanceof NotOwnerError ? error.code : String(error)),
  );

  // 5. New reports up to the daily limit, then RateLimitedError with when to retry.
  const transport = supabaseTransport(supabase);
  const accepted: number[] = [];
  let limited: { code: string; retryAt: string; retryAfterSeconds: number } | undefined;
  for (let attempt = 0; attempt < 10 && !limited; attempt += 1) {
    try {
      accepted.push((await requestAssessmentReport(transport, assessmentId)).msgId);
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error;
      limited = {
        code: error.code,
        retryAt: error.retryAt.toISOString(),
        retryAfterSeconds: error.retryAfterSeconds(),
      };
    }
  }

  // 6. Signed out: NotSignedInError.
  await supabase.auth.signOut();
  const signedOut = await requestAssessmentReport(supabaseTransport(supabase), assessmentId).then(
    () => "accepted",
    (error: unknown) => (error instanceof NotSignedInError ? error.code : String(error)),
  );

  return {
    userId,
    assessmentId,
    completed: completed.data,
    reportId: report.id,
    link: { url: link.url, expiresAt: link.expiresAt.toISOString() },
    download: {
      status: download.status,
      type: download.headers.get("content-type"),
      size: bytes.length,
      magic,
    },
    foreign,
    accepted,
    limited,
    signedOut,
  };
}

const out = document.getElementById("result") as HTMLElement;
run().then(
  (result) => {
    out.textContent = JSON.stringify({ ok: true, result });
  },
  (error: unknown) => {
    out.textContent = JSON.stringify({ ok: false, error: String(error), stack: (error as Error).stack });
  },
);
