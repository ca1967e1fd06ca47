// 040_reports.sql (and 045's saved results) against a real database: where results come from, who reads public.reports, and
// the per-user limit of request_assessment_report.
import { randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkupKinds, checkupScales, parseCheckupResults, ReportResultsError } from "../src/index.ts";

let db: TestDatabase;
let admin: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  admin = new pg.Pool({ connectionString: db.url, max: 3 });
});
afterAll(async () => {
  await admin?.end();
  await db?.drop();
});

async function createUser(): Promise<string> {
  const id = randomUUID();
  await admin.query("insert into auth.users (id, email, raw_user_meta_data) values ($1, $2, $3)", [
    id,
    `user-${id.slice(0, 8)}@example.com`,
    { full_name: "Анна", locale: "ru", timezone: "Europe/Moscow" },
  ]);
  return id;
}

async function createCheckup(userId: string, kind: string, answers: object = {}): Promise<string> {
  const { rows } = await admin.query<{ id: string }>(
    "insert into public.assessments (user_id, kind, title, answers) values ($1, $2, 'Чекап', $3) returning id",
    [userId, kind, answers],
  );
  return rows[0]!.id;
}

/** Runs statements as a signed-in user (role authenticated, JWT sub), committed. */
async function asUser<T>(userId: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await admin.connect();
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
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
}

async function resultsOf(id: string): Promise<unknown> {
  const { rows } = await admin.query<{ results: unknown }>(
    "select results from public.assessments where id = $1",
    [id],
  );
  return rows[0]?.results;
}

const fullAnswers = { q1: 5, q2: 4, q3: 3, q4: 3, q5: 1, q6: 2 };

describe("results: saved by the app, else scored on completion", () => {
  it.each(checkupKinds)(
    "scores a completed %s checkup from its answers, in the shape of the report contract",
    async (kind) => {
      const userId = await createUser();
      const id = await createCheckup(userId, kind, fullAnswers);

      await asUser(userId, (client) =>
        client.query("update public.assessments set status = 'completed' where id = $1", [id]),
      );

      const [first, second, third] = checkupScales[kind];
      const results = await resultsOf(id);
      // (avg - 1) * 25 per scale: (4.5-1)*25 = 88 (87.5 rounded), (3-1)*25 = 50, (1.5-1)*25 = 13 (12.5 rounded).
      expect(results).toEqual({
        score: 50,
        level: "moderate",
        scales: { [first]: 88, [second]: 50, [third]: 13 },
      });
      expect(parseCheckupResults(kind, results).score).toBe(50);
    },
  );

  it("keeps the results the app saves, and scores only a checkup completed without any", async () => {
    const userId = await createUser();
    const saved = await createCheckup(userId, "wellbeing", fullAnswers);
    const unsaved = await createCheckup(userId, "wellbeing", fullAnswers);
    const appResults = { score: 81, level: "high", scales: { energy: 90, sleep: 80, mood: 73 } };

    await asUser(userId, (client) =>
      client.query("update public.assessments set results = $2 where id = $1", [saved, appResults]),
    );
    expect(await resultsOf(saved)).toEqual(appResults);

    await asUser(userId, (client) =>
      client.query("update public.assessments set status = 'completed' where id = any($1)", [
        [saved, unsaved],
      ]),
    );
    expect(await resultsOf(saved)).toEqual(appResults);
    expect(await resultsOf(unsaved)).toMatchObject({ score: 50, scales: { energy: 88 } });
  });

  it("keeps what the app saves for a kind we do not score", async () => {
    const userId = await createUser();
    const id = await createCheckup(userId, "nutrition", fullAnswers);
    const appResults = { score: 64, level: "moderate", scales: { hydration: 71, variety: 57 } };

    await asUser(userId, (client) =>
      client.query("update public.assessments set results = $2, status = 'completed' where id = $1", [
        id,
        appResults,
      ]),
    );
    expect(await resultsOf(id)).toEqual(appResults);
    expect(parseCheckupResults("nutrition", appResults).score).toBe(64);
  });

  it("keeps results a server role writes (a scoring service)", async () => {
    const userId = await createUser();
    const id = await createCheckup(userId, "sleep", fullAnswers);
    const scored = { score: 70, level: "high", scales: { duration: 70, quality: 70, regularity: 70 } };

    await admin.query("update public.assessments set results = $2, status = 'completed' where id = $1", [
      id,
      scored,
    ]);

    expect(await resultsOf(id)).toEqual(scored);
  });

  it("leaves an unanswered scale out, and the contract names it", async () => {
    const userId = await createUser();
    const id = await createCheckup(userId, "stress", { q1: 5, q2: 5, q3: 1, q4: "many" });

    await admin.query("update public.assessments set status = 'completed' where id = $1", [id]);

    const results = await resultsOf(id);
    expect(results).toEqual({ score: 50, level: "moderate", scales: { calmness: 100, resilience: 0 } });
    expect(() => parseCheckupResults("stress", results)).toThrow(ReportResultsError);
    expect(() => parseCheckupResults("stress", results)).toThrow("results.scales.recovery");
  });

  it("gives no results to a checkup without answers or of an unknown kind", async () => {
    const userId = await createUser();
    const empty = await createCheckup(userId, "wellbeing");
    const unknown = await createCheckup(userId, "nutrition", fullAnswers);

    await admin.query("update public.assessments set status = 'completed' where id = any($1)", [
      [empty, unknown],
    ]);

    expect(await resultsOf(empty)).toBeNull();
    expect(await resultsOf(unknown)).toBeNull();
  });
});

describe("public.reports", () => {
  async function reportFor(userId: string): Promise<string> {
    const assessmentId = await createCheckup(userId, "wellbeing", fullAnswers);
    const { rows } = await admin.query<{ id: string }>(
      `insert into public.reports (assessment_id, user_id, storage_path, size_bytes, sha256, renderer_version)
       values ($1, $2, $3, 1000, repeat('a', 64), 'pdf-1') returning id`,
      [assessmentId, userId, `${userId}/${assessmentId}/r.pdf`],
    );
    return rows[0]!.id;
  }

  it("shows owners their own reports and nobody else's", async () => {
    const owner = await createUser();
    const stranger = await createUser();
    const own = await reportFor(owner);
    await reportFor(stranger);

    const seen = await asUser(owner, (client) =>
      client.query<{ id: string }>("select id from public.reports"),
    );

    expect(seen.rows.map((row) => row.id)).toEqual([own]);
  });

  it("lets no API user write a report row (42501)", async () => {
    const owner = await createUser();
    const assessmentId = await createCheckup(owner, "wellbeing");
    const insert = asUser(owner, (client) =>
      client.query(
        `insert into public.reports (assessment_id, user_id, storage_path, size_bytes, sha256, renderer_version)
         values ($1, $2, 'x.pdf', 1, repeat('a', 64), 'pdf-1')`,
        [assessmentId, owner],
      ),
    );
    await expect(insert).rejects.toMatchObject({ code: "42501" });
  });
});

describe("request_assessment_report", () => {
  async function completedCheckup(): Promise<{ userId: string; id: string }> {
    const userId = await createUser();
    const id = await createCheckup(userId, "wellbeing", fullAnswers);
    await admin.query("update public.assessments set status = 'completed' where id = $1", [id]);
    return { userId, id };
  }

  async function request(userId: string, id: string): Promise<string> {
    const { rows } = await asUser(userId, (client) =>
      client.query<{ msg_id: string }>("select public.request_assessment_report($1) as msg_id", [id]),
    );
    return rows[0]!.msg_id;
  }

  async function jobs(id: string) {
    const { rows } = await admin.query<{ message: { idempotency_key: string; requested_by: string } }>(
      "select message from pgmq.q_report_generation_queue where message ->> 'assessment_id' = $1 order by msg_id",
      [id],
    );
    return rows.map((row) => row.message);
  }

  it("queues a new report job per request, each with its own key, up to the limit (3 per day)", async () => {
    const { userId, id } = await completedCheckup();

    const msgIds = [await request(userId, id), await request(userId, id), await request(userId, id)];

    expect(new Set(msgIds).size).toBe(3);
    const queued = await jobs(id);
    // The completion's own job, then the three requests.
    expect(queued.map((job) => job.requested_by)).toEqual(["trigger", "user", "user", "user"]);
    expect(new Set(queued.map((job) => job.idempotency_key)).size).toBe(4);
  });

  it("refuses the request past the limit with PT429, saying when the next is possible, and queues nothing", async () => {
    const { userId, id } = await completedCheckup();
    for (let i = 0; i < 3; i += 1) await request(userId, id);

    const error = await request(userId, id).catch((reason: unknown) => reason);

    expect(error).toMatchObject({ code: "PT429" });
    expect((error as Error).message).toMatch(
      /at most 3 report requests per 1 day; the next one is possible after /,
    );
    expect(await jobs(id)).toHaveLength(4);
  });

  it("counts per user, and reads the limit from automation.settings", async () => {
    const first = await completedCheckup();
    const second = await completedCheckup();
    await admin.query("update automation.settings set value = '1' where key = 'report_request_limit'");
    try {
      await request(first.userId, first.id);
      await expect(request(first.userId, first.id)).rejects.toMatchObject({ code: "PT429" });
      await expect(request(second.userId, second.id)).resolves.toMatch(/^\d+$/);
    } finally {
      await admin.query("update automation.settings set value = '3' where key = 'report_request_limit'");
    }
  });

  it("still refuses someone else's checkup as not found (P0002)", async () => {
    const { id } = await completedCheckup();
    const stranger = await createUser();
    await expect(request(stranger, id)).rejects.toMatchObject({ code: "P0002" });
  });
});
