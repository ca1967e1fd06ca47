import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailMessageSchema } from "../src/catalog.ts";

// Who may queue and who may touch pgmq (031_setup_queues.sql): service_role only. The browser roles
// (anon, authenticated) can neither call a queue helper nor reach the pgmq schema.

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

/** Runs statements as `role` inside a transaction that is always rolled back. */
async function asRole<T>(role: string, work: () => Promise<T>): Promise<T> {
  await client.query("begin");
  try {
    await client.query(`set local role ${pg.escapeIdentifier(role)}`);
    return await work();
  } finally {
    await client.query("rollback");
  }
}

async function refusedAs(role: string, sql: string): Promise<pg.DatabaseError> {
  return asRole(role, async () => {
    try {
      await client.query(sql);
    } catch (error) {
      if (error instanceof pg.DatabaseError) return error;
      throw error;
    }
    throw new Error(`expected ${role} to be refused: ${sql}`);
  });
}

const helperCalls = [
  "select public.queue_email_task('anna@example.com', null, 'report_ready')",
  "select public.queue_report_generation(gen_random_uuid(), gen_random_uuid())",
  "select public.queue_payment_processing(gen_random_uuid(), 'verify')",
  "select public.track_event('email_sent')",
];

describe.each(["anon", "authenticated"])("%s", (role) => {
  it.each(helperCalls)("is denied: %s", async (call) => {
    const error = await refusedAs(role, call);
    expect(error.code).toBe("42501");
    expect(error.message).toMatch(/^permission denied for function (queue_|track_event)/);
  });

  it.each([
    "select * from pgmq.q_email_queue",
    "select * from pgmq.meta",
    `select pgmq.send('email_queue', '{}')`,
    "select * from pgmq.read('email_queue', 30, 1)",
  ])("cannot reach pgmq: %s", async (sql) => {
    const error = await refusedAs(role, sql);
    expect(error.code).toBe("42501");
    expect(error.message).toBe("permission denied for schema pgmq");
  });

  it("cannot call the internal email rule", async () => {
    const error = await refusedAs(role, "select public.is_email_address('a@example.com')");
    expect(error.code).toBe("42501");
  });
});

describe("service_role", () => {
  it("queues an email and reads it back through pgmq", async () => {
    const message = await asRole("service_role", async () => {
      await client.query("select public.queue_email_task('anna@example.com', null, 'report_ready')");
      const { rows } = await client.query<{ message: unknown }>(
        "select message from pgmq.read('email_queue', 30, 1)",
      );
      return rows[0]?.message;
    });
    expect(emailMessageSchema.parse(message).to).toBe("anna@example.com");
  });

  it.each(helperCalls)("may call %s", async (call) => {
    const { rows } = await asRole("service_role", () => client.query<{ id: string }>(`${call} as id`));
    expect(rows[0]?.id).toMatch(/^\d+$/);
  });

  it("may archive, delete and measure queue messages", async () => {
    await asRole("service_role", async () => {
      const sent = await client.query<{ id: string }>(`select pgmq.send('analytics_queue', '{}') as id`);
      const id = sent.rows[0]?.id;
      const archived = await client.query<{ ok: boolean }>(
        "select pgmq.archive('analytics_queue', $1::bigint) as ok",
        [id],
      );
      expect(archived.rows[0]?.ok).toBe(true);
      const metrics = await client.query<{ total_messages: string }>(
        "select total_messages from pgmq.metrics('analytics_queue')",
      );
      expect(Number(metrics.rows[0]?.total_messages)).toBeGreaterThan(0);
    });
  });
});
