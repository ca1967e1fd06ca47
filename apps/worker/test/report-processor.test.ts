// The report processor against a real database, with an in-memory renderer and store (the PDF
// renderer and the storage are separate pieces of work): what it checks, what it stores where, and
// that one checkup gets one report_ready email. Runs as service_role, as the worker does.
import { randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import type { QueueMessage } from "@balansity/queues";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProcessors } from "../src/build-processors.ts";
import { loadConfig } from "../src/config/load-config.ts";
import { PermanentError } from "../src/consumer/errors.ts";
import type { ProcessorContext } from "../src/consumer/processor.ts";
import { ReportProcessor } from "../src/reports/report-processor.ts";
import type { RenderedReport, ReportRenderer, ReportRenderInput } from "../src/reports/report-renderer.ts";
import type { ReportStore, StoredReport } from "../src/reports/report-store.ts";

let db: TestDatabase;
let admin: pg.Pool;
let pool: pg.Pool;

const silent = pino({ level: "silent" });

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  admin = new pg.Pool({ connectionString: db.url, max: 2 });
  pool = new pg.Pool({ connectionString: db.url, max: 4, options: "-c role=service_role" });
});

afterAll(async () => {
  await pool?.end();
  await admin?.end();
  await db?.drop();
});

class MemoryRenderer implements ReportRenderer {
  readonly inputs: ReportRenderInput[] = [];
  failWith: Error | undefined;
  async render(input: ReportRenderInput): Promise<RenderedReport> {
    if (this.failWith) throw this.failWith;
    this.inputs.push(input);
    return {
      contentType: "application/pdf",
      body: new TextEncoder().encode(`%PDF-1.7 report of ${input.assessment.id}`),
      fileName: "balansity-checkup.pdf",
    };
  }
}

class MemoryStore implements ReportStore {
  readonly objects = new Map<string, { body: Uint8Array; contentType: string }>();
  readonly puts: string[] = [];
  urlFor: (key: string) => string = (key) => `https://storage.example.com/reports/${key}?token=signed`;
  async put(key: string, body: Uint8Array, contentType: string): Promise<StoredReport> {
    this.puts.push(key);
    this.objects.set(key, { body, contentType });
    return { url: this.urlFor(key), expiresAt: new Date("2026-12-01T00:00:00Z") };
  }
}

function setup() {
  const renderer = new MemoryRenderer();
  const store = new MemoryStore();
  const processor = new ReportProcessor({ db: pool, renderer, store, appUrl: "https://balansity.ru" });
  return { renderer, store, processor };
}

function context(): ProcessorContext {
  return {
    queue: "report_generation_queue",
    msgId: "1",
    attempt: 1,
    enqueuedAt: new Date(),
    logger: silent,
    signal: new AbortController().signal,
  };
}

function message(assessmentId: string, userId: string): QueueMessage<"report_generation_queue"> {
  return {
    version: 1,
    idempotency_key: `report:${assessmentId}:pdf`,
    assessment_id: assessmentId,
    user_id: userId,
    report_type: "pdf",
    requested_by: "trigger",
  };
}

/** A user (English, Berlin time) with a checkup in the given status. */
async function checkup(status: "completed" | "in_progress" = "completed") {
  const userId = randomUUID();
  const assessmentId = randomUUID();
  const email = `user-${userId.slice(0, 8)}@example.com`;
  await admin.query(
    `insert into auth.users (id, email, raw_user_meta_data)
     values ($1, $2, '{"full_name": "Anna", "locale": "en", "timezone": "Europe/Berlin"}')`,
    [userId, email],
  );
  await admin.query(
    `insert into public.assessments (id, user_id, kind, title, status, answers, results)
     values ($1, $2, 'wellbeing', 'Wellbeing check', $3, '{"q1": 4}', $4)`,
    [assessmentId, userId, status, status === "completed" ? '{"score": 72}' : null],
  );
  return { userId, assessmentId, email };
}

async function reportEmails(assessmentId: string) {
  const { rows } = await admin.query<{ message: Record<string, unknown> }>(
    "select message from pgmq.q_email_queue where message ->> 'idempotency_key' = $1",
    [`report_ready:${assessmentId}`],
  );
  return rows.map((row) => row.message);
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected the processor to fail");
}

describe("ReportProcessor", () => {
  it("renders a completed checkup in the owner's language and zone, stores it, and queues report_ready", async () => {
    const { renderer, store, processor } = setup();
    const { userId, assessmentId, email } = await checkup();

    await processor.process(message(assessmentId, userId), context());

    expect(renderer.inputs).toHaveLength(1);
    expect(renderer.inputs[0]).toMatchObject({
      assessment: {
        id: assessmentId,
        userId,
        kind: "wellbeing",
        title: "Wellbeing check",
        answers: { q1: 4 },
        results: { score: 72 },
      },
      profile: { id: userId, email, fullName: "Anna" },
      locale: "en",
      timezone: "Europe/Berlin",
    });
    expect(renderer.inputs[0]?.assessment.completedAt).toBeInstanceOf(Date);
    const key = `${userId}/${assessmentId}/balansity-checkup.pdf`;
    expect([...store.objects.keys()]).toEqual([key]);
    expect(store.objects.get(key)?.contentType).toBe("application/pdf");

    const queued = await reportEmails(assessmentId);
    expect(queued).toEqual([
      {
        version: 1,
        idempotency_key: `report_ready:${assessmentId}`,
        to: email,
        template: "report_ready",
        subject: null,
        locale: "en",
        timezone: "Europe/Berlin",
        priority: 0,
        user_id: userId,
        variables: {
          user_name: "Anna",
          app_url: "https://balansity.ru",
          assessment_id: assessmentId,
          assessment_title: "Wellbeing check",
          report_url: `https://storage.example.com/reports/${key}?token=signed`,
          expires_at: "2026-12-01T00:00:00.000Z",
        },
      },
    ]);
    const { rows } = await admin.query(
      "select 1 from pgmq.q_analytics_queue where message ->> 'idempotency_key' = $1",
      [`analytics:report_generated:${assessmentId}`],
    );
    expect(rows).toHaveLength(1);
  });

  it("a second job for the same checkup stores the report again but queues no second email", async () => {
    const { store, processor } = setup();
    const { userId, assessmentId } = await checkup();

    await processor.process(message(assessmentId, userId), context());
    await processor.process({ ...message(assessmentId, userId), requested_by: "user" }, context());

    expect(store.puts).toHaveLength(2);
    expect(new Set(store.puts).size).toBe(1);
    expect(await reportEmails(assessmentId)).toHaveLength(1);
  });

  it("queues no email once the email processor has sent it (the message archived)", async () => {
    const { processor } = setup();
    const { userId, assessmentId, email } = await checkup();
    await processor.process(message(assessmentId, userId), context());
    // What the email worker leaves behind: the delivery recorded, the message archived.
    await admin.query(
      `insert into automation.email_deliveries (idempotency_key, msg_id, template, recipient, status, sent_at)
       values ($1, 1, 'report_ready', $2, 'sent', now())`,
      [`report_ready:${assessmentId}`, email],
    );
    await admin.query("delete from pgmq.q_email_queue where message ->> 'idempotency_key' = $1", [
      `report_ready:${assessmentId}`,
    ]);

    await processor.process(message(assessmentId, userId), context());

    expect(await reportEmails(assessmentId)).toHaveLength(0);
  });

  it("a missing assessment: PermanentError assessment_not_found, nothing rendered", async () => {
    const { renderer, processor } = setup();

    const error = await rejection(processor.process(message(randomUUID(), randomUUID()), context()));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe("assessment_not_found");
    expect(renderer.inputs).toHaveLength(0);
  });

  it("a checkup still in progress: PermanentError assessment_not_completed, no email", async () => {
    const { renderer, processor } = setup();
    const { userId, assessmentId } = await checkup("in_progress");

    const error = await rejection(processor.process(message(assessmentId, userId), context()));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe("assessment_not_completed");
    expect(renderer.inputs).toHaveLength(0);
    expect(await reportEmails(assessmentId)).toHaveLength(0);
  });

  it("a message naming another user: PermanentError assessment_user_mismatch, nothing rendered", async () => {
    const { renderer, processor } = setup();
    const { assessmentId } = await checkup();

    const error = await rejection(processor.process(message(assessmentId, randomUUID()), context()));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe("assessment_user_mismatch");
    expect(renderer.inputs).toHaveLength(0);
  });

  it("a renderer failure is retried (not permanent) and queues nothing", async () => {
    const { renderer, store, processor } = setup();
    const { userId, assessmentId } = await checkup();
    renderer.failWith = new Error("font not loaded");

    const error = await rejection(processor.process(message(assessmentId, userId), context()));

    expect(error).not.toBeInstanceOf(PermanentError);
    expect(store.puts).toHaveLength(0);
    expect(await reportEmails(assessmentId)).toHaveLength(0);
  });

  it("a store URL that is not http(s): PermanentError report_email_invalid, no email", async () => {
    const { store, processor } = setup();
    const { userId, assessmentId } = await checkup();
    store.urlFor = (key) => `file:///var/reports/${key}`;

    const error = await rejection(processor.process(message(assessmentId, userId), context()));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe("report_email_invalid");
    expect(error.message).toContain("report_url");
    expect(await reportEmails(assessmentId)).toHaveLength(0);
  });

  it("keeps the renderer's file name inside the checkup's folder", async () => {
    const { renderer, store, processor } = setup();
    const { userId, assessmentId } = await checkup();
    renderer.render = async () => ({
      contentType: "application/pdf",
      body: new Uint8Array([1]),
      fileName: "../../other user/отчёт.pdf",
    });

    await processor.process(message(assessmentId, userId), context());

    expect(store.puts).toEqual([`${userId}/${assessmentId}/_.pdf`]);
  });
});

describe("buildProcessors and report_generation_queue", () => {
  const env = {
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: "2525",
    SMTP_SECURE: "none",
    SMTP_FROM: "noreply@balansity.ru",
    PAYMENT_SHOP_ID: "123456",
    PAYMENT_SECRET_KEY: "test_secret",
  };

  it("consumes report_generation_queue only with a renderer and a store, and says why not otherwise", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    const config = loadConfig({ DATABASE_URL: db.url, ...env });

    const without = await buildProcessors({ config, pool, logger });
    expect(without.map((p) => p.queue)).toEqual([
      "email_queue",
      "payment_processing_queue",
      "analytics_queue",
    ]);
    expect(lines.some((line) => line.includes("report_generation_queue is not consumed"))).toBe(true);
    expect(lines.join("\n")).not.toContain("test_secret");

    const onlyRenderer = await buildProcessors({
      config,
      pool,
      logger: silent,
      reportRenderer: new MemoryRenderer(),
    });
    expect(onlyRenderer.map((p) => p.queue)).not.toContain("report_generation_queue");

    const withBoth = await buildProcessors({
      config,
      pool,
      logger: silent,
      reportRenderer: new MemoryRenderer(),
      reportStore: new MemoryStore(),
    });
    expect(withBoth.map((p) => p.queue)).toEqual([
      "email_queue",
      "payment_processing_queue",
      "analytics_queue",
      "report_generation_queue",
    ]);
  });
});
