import pg from "pg";
import { pdfText } from "./pdf-text.ts";
import { fetchAttachment, type SinkMessage, waitForMessage } from "./sink-client.ts";
import type { SmokeConfig } from "./smoke-config.ts";

// The verification list, end to end against a running stack (supabase/seed.sql):
//   1. the stack answers                                   database and SMTP sink
//   2. Анна completes her seeded checkup                   as the signed-in user, through RLS
//   3. checkup_completed arrives                           trigger -> email_queue -> worker -> SMTP
//   4. report_ready arrives with the PDF                   report job -> PDF -> store -> email with attachment
//   5. Анна books an appointment; its confirmation arrives
//   6. Анна pays: our payment at the appointment's price, the YooKassa payment (the stand-in), the
//      stand-in notifies yookassa-webhook (the Edge Function asks the API, then the database); the
//      receipt arrives
// The seeded checkup is completed on the first run; later runs complete a new one like it.

const ANNA = "11111111-1111-4111-8111-111111111111";
const SEEDED_CHECKUP = "aaaaaaaa-0000-4000-8000-000000000001";
/** The seeded checkup has q1 and q2; the rest are answered here, as the user would. */
const REMAINING_ANSWERS = { q3: 4, q4: 2, q5: 5, q6: 3 };

export class SmokeStepError extends Error {
  readonly code = "smoke_step_failed";
  readonly step: string;
  constructor(step: string, cause: unknown) {
    super(`step "${step}" failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "SmokeStepError";
    this.step = step;
  }
}

export interface SmokeStepResult {
  readonly step: string;
  readonly ms: number;
  readonly detail: string;
}

interface Context {
  readonly config: SmokeConfig;
  readonly db: pg.Pool;
  annaEmail?: string;
  assessmentId?: string;
  scores?: number[];
  appointmentId?: string;
  /** When this run started changing data: older emails (an earlier run, another database) never count. */
  since?: number;
}

interface Step {
  readonly name: string;
  /** Why the step cannot run with this configuration (it is then reported as not run), if so. */
  notRunnable?(context: Context): string | undefined;
  run(context: Context): Promise<string>;
}

/**
 * Runs every step in order; `log` gets one line per step with its time. Throws `SmokeStepError`
 * naming the first step that fails.
 *
 * ### Examples
 * ```ts
 * await runSmoke(loadSmokeConfig(process.env), console.log);
 * ```
 */
export async function runSmoke(config: SmokeConfig, log: (line: string) => void): Promise<SmokeStepResult[]> {
  const db = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
  const context: Context = { config, db };
  const results: SmokeStepResult[] = [];
  try {
    for (const [index, step] of steps.entries()) {
      const notRunnable = step.notRunnable?.(context);
      if (notRunnable) {
        results.push({ step: step.name, ms: 0, detail: `not run: ${notRunnable}` });
        log(`[smoke] ${index + 1}/${steps.length} ${step.name}: NOT RUN (${notRunnable})`);
        continue;
      }
      const started = performance.now();
      let detail: string;
      try {
        detail = await step.run(context);
      } catch (error) {
        const ms = Math.round(performance.now() - started);
        log(`[smoke] ${index + 1}/${steps.length} ${step.name}: FAILED after ${ms} ms`);
        throw new SmokeStepError(step.name, error);
      }
      const ms = Math.round(performance.now() - started);
      results.push({ step: step.name, ms, detail });
      log(`[smoke] ${index + 1}/${steps.length} ${step.name}: ok in ${ms} ms (${detail})`);
    }
    return results;
  } finally {
    await db.end();
  }
}

/** Runs `work` as a signed-in user: role authenticated with the user's JWT claims, committed. */
async function asUser<T>(
  db: pg.Pool,
  userId: string,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await db.connect();
  try {
    await client.query("begin");
    await client.query(
      "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)",
      [JSON.stringify({ sub: userId, role: "authenticated" })],
    );
    const result = await work(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is unknown: an earlier step did not run`);
  return value;
}

/** A message of this run (received after `since`, allowing a second of clock rounding) naming `id`. */
const mentions = (id: string, since: number | undefined) => (message: SinkMessage) =>
  Date.parse(message.receivedAt) >= (since ?? 0) - 1_000 && (message.text?.includes(id) ?? false);

const steps: readonly Step[] = [
  {
    name: "the stack answers",
    async run({ config, db }) {
      const { rows } = await db.query<{ email: string }>("select email from public.profiles where id = $1", [
        ANNA,
      ]);
      if (!rows[0])
        throw new Error(`seeded user ${ANNA} is missing: the database has no seed (supabase/seed.sql)`);
      const health = await fetch(`${config.sinkUrl}/healthz`);
      if (!health.ok) throw new Error(`SMTP sink ${config.sinkUrl}/healthz answered ${health.status}`);
      return `database and SMTP sink at ${config.sinkUrl}`;
    },
  },
  {
    name: "complete the seeded checkup",
    async run(context) {
      const { db } = context;
      const { rows: profile } = await db.query<{ email: string }>(
        "select email from public.profiles where id = $1",
        [ANNA],
      );
      context.annaEmail = need(profile[0], "Анна's profile").email;
      context.since = Date.now();
      const { rows: seeded } = await db.query<{ status: string }>(
        "select status from public.assessments where id = $1",
        [SEEDED_CHECKUP],
      );
      let id = SEEDED_CHECKUP;
      if (seeded[0]?.status !== "in_progress") {
        // Completed on an earlier run: a new checkup like the seeded one.
        const { rows } = await db.query<{ id: string }>(
          `insert into public.assessments (user_id, kind, title, answers)
           select user_id, kind, title, '{"q1": 3, "q2": 4}' from public.assessments where id = $1 returning id`,
          [SEEDED_CHECKUP],
        );
        id = need(rows[0], "the new checkup").id;
      }
      await asUser(db, ANNA, (client) =>
        client.query(
          "update public.assessments set answers = $2::jsonb || answers, status = 'completed' where id = $1",
          [id, JSON.stringify(REMAINING_ANSWERS)],
        ),
      );
      const { rows } = await db.query<{ results: { score: number; scales: Record<string, number> } | null }>(
        "select results from public.assessments where id = $1",
        [id],
      );
      const results = rows[0]?.results;
      if (!results) throw new Error(`checkup ${id} has no results after completion`);
      context.assessmentId = id;
      context.scores = [results.score, ...Object.values(results.scales)];
      return `checkup ${id}, scores ${context.scores.join(", ")}`;
    },
  },
  {
    name: "checkup_completed email",
    async run(context) {
      const id = need(context.assessmentId, "the checkup");
      const message = await waitForMessage(context.config.sinkUrl, {
        to: need(context.annaEmail, "Анна's address"),
        match: (candidate) => mentions(id, context.since)(candidate) && candidate.attachments.length === 0,
        timeoutMs: context.config.stepTimeoutMs,
        what: `checkup_completed email for checkup ${id}`,
      });
      return `"${message.subject}"`;
    },
  },
  {
    name: "report_ready email with the PDF",
    async run(context) {
      const id = need(context.assessmentId, "the checkup");
      const message = await waitForMessage(context.config.sinkUrl, {
        to: need(context.annaEmail, "Анна's address"),
        match: (candidate) =>
          mentions(id, context.since)(candidate) &&
          candidate.attachments.some((a) => a.contentType === "application/pdf"),
        timeoutMs: context.config.stepTimeoutMs,
        what: `report_ready email with a PDF for checkup ${id}`,
      });
      const index = message.attachments.findIndex((a) => a.contentType === "application/pdf");
      const text = await pdfText(await fetchAttachment(context.config.sinkUrl, message.id, index));
      const missing = ["Анна Иванова", ...need(context.scores, "the scores").map(String)].filter(
        (expected) => !text.includes(expected),
      );
      if (missing.length > 0)
        throw new Error(`the PDF's text lacks ${missing.map((m) => `"${m}"`).join(", ")}`);
      return `"${message.subject}", ${message.attachments[index]?.filename} (${message.attachments[index]?.size} bytes) names Анна Иванова and every score`;
    },
  },
  {
    name: "book an appointment -> confirmation email",
    async run(context) {
      const { rows } = await asUser(context.db, ANNA, (client) =>
        client.query<{ id: string }>(
          `insert into public.appointments (user_id, specialist_name, topic, starts_at, ends_at)
           values ($1, 'Мария Соколова', 'Разбор отчёта', now() + interval '3 days', now() + interval '3 days 1 hour')
           returning id`,
          [ANNA],
        ),
      );
      const id = need(rows[0], "the appointment").id;
      context.appointmentId = id;
      const message = await waitForMessage(context.config.sinkUrl, {
        to: need(context.annaEmail, "Анна's address"),
        match: mentions(id, context.since),
        timeoutMs: context.config.stepTimeoutMs,
        what: `appointment_confirmation for appointment ${id}`,
      });
      return `"${message.subject}"`;
    },
  },
  {
    name: "payment through yookassa-webhook -> receipt email",
    notRunnable: (context) =>
      context.config.payments
        ? undefined
        : "no YooKassa stand-in: PAYMENT_API_URL, PAYMENT_SHOP_ID, PAYMENT_SECRET_KEY unset (devstack env has them)",
    async run(context) {
      const appointmentId = need(context.appointmentId, "the appointment");
      const payments = need(context.config.payments, "the YooKassa stand-in");
      await context.db.query("update public.appointments set price_amount = 3000 where id = $1", [
        appointmentId,
      ]);
      // What the create-payment function does, step by step (it needs a user's JWT; the smoke has a database).
      const started = await asUser(context.db, ANNA, (client) =>
        client.query<{ payment_id: string; amount: string; currency: string }>(
          "select payment_id, amount::text, currency from public.start_appointment_payment($1)",
          [appointmentId],
        ),
      );
      const payment = need(started.rows[0], "the payment");
      const created = await fetch(`${payments.apiUrl}/payments`, {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from(`${payments.shopId}:${payments.secretKey}`).toString("base64")}`,
          "idempotence-key": payment.payment_id,
          "content-type": "application/json",
        },
        body: JSON.stringify({
          amount: { value: payment.amount, currency: payment.currency },
          capture: true,
          confirmation: { type: "redirect", return_url: "http://localhost:5173/payments/done" },
          metadata: { payment_id: payment.payment_id },
        }),
      });
      if (created.status !== 200) throw new Error(`YooKassa (the stand-in) answered HTTP ${created.status}`);
      const providerId = ((await created.json()) as { id: string }).id;
      await context.db.query("select public.attach_provider_payment($1, $2)", [
        payment.payment_id,
        providerId,
      ]);
      // The payer pays: the stand-in sends payment.succeeded to the Edge Function.
      const paid = await fetch(`${new URL(payments.apiUrl).origin}/stand-in/payments/${providerId}/succeed`, {
        method: "POST",
      });
      if (paid.status !== 202) throw new Error(`the stand-in did not take the payment (HTTP ${paid.status})`);
      const message = await waitForMessage(context.config.sinkUrl, {
        to: need(context.annaEmail, "Анна's address"),
        match: mentions(payment.payment_id, context.since),
        timeoutMs: context.config.stepTimeoutMs,
        what: `payment_succeeded receipt for payment ${payment.payment_id}`,
      });
      const { rows } = await context.db.query<{ status: string }>(
        "select status from public.payments where id = $1",
        [payment.payment_id],
      );
      if (rows[0]?.status !== "completed")
        throw new Error(`the payment is ${rows[0]?.status}, not completed`);
      return `"${message.subject}", payment ${payment.payment_id} completed by the webhook`;
    },
  },
];
