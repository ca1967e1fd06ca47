// The maintenance cron functions of supabase/migrations/030_setup_cron_jobs.sql against a real
// database: public.cleanup_old_assessments(), automation.purge_queue_archives() and
// automation.purge_cron_history(). Time is moved with their `p_now` argument.
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.parse("2030-06-03T00:00:00Z");
const USER = "d0000000-0000-4000-8000-000000000004";

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query("insert into auth.users (id, email) values ($1, 'dina@example.com')", [USER]);
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

function at(offset: number): string {
  return new Date(NOW + offset).toISOString();
}

describe("public.cleanup_old_assessments", () => {
  beforeEach(async () => {
    await client.query("delete from public.assessments");
  });

  interface CheckupSpec {
    readonly createdIn: number;
    readonly updatedIn?: number;
    readonly status?: "in_progress" | "completed" | "abandoned";
  }

  async function insertCheckup(spec: CheckupSpec): Promise<string> {
    const result = await client.query<{ id: string }>(
      `insert into public.assessments (user_id, kind, status, created_at, updated_at)
       values ($1, 'wellbeing', $2, $3, $4) returning id`,
      [USER, spec.status ?? "in_progress", at(spec.createdIn), at(spec.updatedIn ?? spec.createdIn)],
    );
    return result.rows[0]!.id;
  }

  async function checkup(
    id: string,
  ): Promise<{ status: string; abandoned_at: Date | null; completed_at: Date | null }> {
    const result = await client.query<{
      status: string;
      abandoned_at: Date | null;
      completed_at: Date | null;
    }>("select status, abandoned_at, completed_at from public.assessments where id = $1", [id]);
    return result.rows[0]!;
  }

  async function cleanup(offset = 0): Promise<number> {
    const result = await client.query<{ abandoned: number }>(
      "select public.cleanup_old_assessments($1) as abandoned",
      [at(offset)],
    );
    return result.rows[0]!.abandoned;
  }

  it("abandons an in-progress checkup idle for 31 days and keeps one idle for 29 days", async () => {
    const old = await insertCheckup({ createdIn: -31 * DAY });
    const recent = await insertCheckup({ createdIn: -29 * DAY });

    expect(await cleanup()).toBe(1);
    const abandoned = await checkup(old);
    expect(abandoned.status).toBe("abandoned");
    expect(abandoned.abandoned_at?.getTime()).toBe(NOW);
    expect((await checkup(recent)).status).toBe("in_progress");
    expect(await cleanup()).toBe(0);
  });

  it("counts 30 days from the last activity, not from creation", async () => {
    const stillWorkedOn = await insertCheckup({ createdIn: -45 * DAY, updatedIn: -2 * DAY });
    const idle = await insertCheckup({ createdIn: -45 * DAY, updatedIn: -31 * DAY });

    expect(await cleanup()).toBe(1);
    expect((await checkup(stillWorkedOn)).status).toBe("in_progress");
    expect((await checkup(idle)).status).toBe("abandoned");
    // Its last activity turns 30 days old 28 days later.
    expect(await cleanup(28 * DAY + HOUR)).toBe(1);
    expect((await checkup(stillWorkedOn)).status).toBe("abandoned");
  });

  it("never touches completed or abandoned checkups", async () => {
    const completed = await insertCheckup({ createdIn: -90 * DAY, status: "completed" });
    const before = await checkup(completed);

    expect(await cleanup()).toBe(0);
    expect(await checkup(completed)).toEqual(before);
  });
});

describe("automation.purge_queue_archives", () => {
  /** Sends a message to the queue, archives it and dates the archiving. */
  async function archive(queue: "email_queue" | "analytics_queue_dlq", archivedIn: number): Promise<void> {
    const sent = await client.query<{ id: string }>("select pgmq.send($1, '{\"test\": true}'::jsonb) as id", [
      queue,
    ]);
    const id = sent.rows[0]!.id;
    await client.query("select pgmq.archive($1, $2::bigint)", [queue, id]);
    await client.query(`update pgmq.a_${queue} set archived_at = $1 where msg_id = $2`, [at(archivedIn), id]);
  }

  async function archived(table: "a_email_queue" | "a_analytics_queue_dlq"): Promise<number> {
    const result = await client.query<{ n: number }>(`select count(*)::int as n from pgmq.${table}`);
    return result.rows[0]!.n;
  }

  it("deletes what every queue archived more than 14 days ago and keeps the rest", async () => {
    await client.query("begin");
    try {
      await archive("email_queue", -15 * DAY);
      await archive("email_queue", -13 * DAY);
      await archive("analytics_queue_dlq", -20 * DAY);
      await archive("email_queue", -HOUR);

      const result = await client.query<{ summary: Record<string, number> }>(
        "select automation.purge_queue_archives($1) as summary",
        [at(0)],
      );
      expect(result.rows[0]!.summary).toMatchObject({
        email_queue: 1,
        analytics_queue_dlq: 1,
        report_generation_queue: 0,
      });
      expect(await archived("a_email_queue")).toBe(2);
      expect(await archived("a_analytics_queue_dlq")).toBe(0);
    } finally {
      await client.query("rollback");
    }
  });

  it("reads the retention from automation.settings", async () => {
    await client.query("begin");
    try {
      await archive("email_queue", -13 * DAY);
      await archive("email_queue", -2 * HOUR);
      await client.query("update automation.settings set value = '1 hour' where key = 'archive_retention'");

      await client.query("select automation.purge_queue_archives($1)", [at(0)]);
      expect(await archived("a_email_queue")).toBe(0);
    } finally {
      await client.query("rollback");
    }
  });

  it("refuses a retention that is not an interval or is shorter than an hour", async () => {
    await expect(
      client.query("update automation.settings set value = 'two weeks' where key = 'archive_retention'"),
    ).rejects.toThrow(/invalid input syntax for type interval/);
    await expect(
      client.query("update automation.settings set value = '5 minutes' where key = 'archive_retention'"),
    ).rejects.toMatchObject({ constraint: "settings_retention_check" });
  });
});

describe("automation.purge_cron_history", () => {
  it("deletes the fallback scheduler's runs older than 14 days and reports no pg_cron history here", async () => {
    await client.query("begin");
    try {
      await client.query(
        `insert into automation.job_run_details (job_name, status, return_message, start_time, end_time) values
           ('update-appointment-statuses', 'succeeded', '{}', $1, $1),
           ('update-appointment-statuses', 'failed', 'boom', $2, $2),
           ('update-appointment-statuses', 'running', null, $3, null)`,
        [at(-15 * DAY), at(-13 * DAY), at(-HOUR)],
      );

      const result = await client.query<{ summary: Record<string, number | null> }>(
        "select automation.purge_cron_history($1) as summary",
        [at(0)],
      );
      expect(result.rows[0]!.summary).toEqual({
        "automation.job_run_details": 1,
        "cron.job_run_details": null,
      });
      const left = await client.query<{ status: string }>(
        "select status from automation.job_run_details order by start_time",
      );
      expect(left.rows.map((row) => row.status)).toEqual(["failed", "running"]);
    } finally {
      await client.query("rollback");
    }
  });

  it("refuses a run row whose end time does not match its status", async () => {
    await expect(
      client.query(
        "insert into automation.job_run_details (job_name, status, end_time) values ('x', 'running', now())",
      ),
    ).rejects.toMatchObject({ constraint: "job_run_details_end_time_check" });
  });
});
