// `balansity user erase <user-id>` end to end, as a child process against a real migrated database
// and a real report folder: a user with data in every place this repository keeps personal data
// (every queue, its dead letters and archive, the delivery log, analytics, counters, send-budget
// slots, report requests, reports and their files) is erased; nothing of theirs is left; another
// user's data is untouched.
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type OpenTestDatabase, openTestDatabase } from "@balansity/devstack/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { jsonOf, runBalansity } from "./support/run-cli.ts";

// Each run starts Node and compiles the CLI with tsx: seconds apiece on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });

interface User {
  readonly id: string;
  readonly email: string;
  readonly reportPath: string;
}

let database: OpenTestDatabase;
let env: Record<string, string>;
let folder: string;

beforeAll(async () => {
  database = await openTestDatabase("migrated");
  env = { DATABASE_URL: database.db.url };
  folder = await mkdtemp(join(tmpdir(), "balansity-erase-"));
});

afterAll(async () => {
  await database?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
});

async function query<R extends object>(sql: string, values: readonly unknown[] = []): Promise<R[]> {
  return (await database.pool.query<R>(sql, [...values])).rows;
}

/** A user with something in every place: queues, dead letters, archives, logs, analytics, reports. */
async function userWithData(name: string): Promise<User> {
  const id = randomUUID();
  const email = `${name}@example.com`;
  await query("insert into auth.users (id, email, raw_user_meta_data) values ($1, $2, '{}')", [id, email]);
  const [checkup] = await query<{ id: string }>(
    "insert into public.assessments (user_id, kind, title, status) values ($1, 'wellbeing', 'Checkup', 'completed') returning id",
    [id],
  );
  const assessment = checkup!.id;
  const email_message = {
    version: 1,
    idempotency_key: `checkup_completed:${assessment}`,
    to: email,
    template: "checkup_completed",
    locale: "ru",
    timezone: "Europe/Moscow",
    priority: 0,
    user_id: id,
    variables: { assessment_id: assessment, user_name: name },
  };
  // Queued (every queue that names users), dead-lettered, archived.
  await query("select pgmq.send('email_queue', $1::jsonb)", [JSON.stringify(email_message)]);
  await query("select pgmq.send('report_generation_queue', $1::jsonb)", [
    JSON.stringify({
      version: 1,
      idempotency_key: `report:${assessment}`,
      assessment_id: assessment,
      user_id: id,
    }),
  ]);
  await query("select pgmq.send('analytics_queue', $1::jsonb)", [
    JSON.stringify({
      version: 1,
      idempotency_key: `e:${randomUUID()}`,
      event: "checkup_completed",
      user_id: id,
    }),
  ]);
  await query(
    `select pgmq.send('email_queue_dlq', jsonb_build_object('queue', 'email_queue', 'original_msg_id', 1,
       'message', $1::jsonb, 'error', jsonb_build_object('code', 'smtp_rejected', 'message', '550 <' || $2 || '> unknown'),
       'attempts', 5, 'enqueued_at', now(), 'failed_at', now()))`,
    [JSON.stringify({ ...email_message, idempotency_key: `dead:${assessment}` }), email],
  );
  await query("select pgmq.archive('email_queue', pgmq.send('email_queue', $1::jsonb))", [
    JSON.stringify({ ...email_message, idempotency_key: `sent:${assessment}` }),
  ]);
  await query("select pgmq.archive('analytics_queue_dlq', pgmq.send('analytics_queue_dlq', $1::jsonb))", [
    JSON.stringify({ message: { event: "signup", user_id: id }, error: { code: "x", message: "y" } }),
  ]);
  // The delivery log, send-budget slots, analytics, counters, report requests, reports and the file.
  await query(
    `insert into automation.email_deliveries (idempotency_key, msg_id, template, recipient, status, error)
     values ($1, 1, 'checkup_completed', $2, 'failed', '550 <' || $3 || '> unknown')`,
    [`log:${assessment}`, email.toUpperCase(), email],
  );
  await query(
    `insert into automation.email_send_slots (account, reserved_at, msg_id, idempotency_key, tier, user_key)
     values ('default', now(), 1, $1, 0, $2)`,
    [`slot:${assessment}`, id],
  );
  await query("insert into analytics.processed_events (idempotency_key) values ($1)", [
    `analytics:signup:${id}`,
  ]);
  await query("insert into analytics.daily_active_users (day, user_id) values (current_date, $1)", [id]);
  await query(
    "insert into automation.user_work_counts (user_id, window_start) values ($1, date_trunc('hour', now()))",
    [id],
  );
  await query("insert into automation.report_requests (user_id, assessment_id, msg_id) values ($1, $2, 1)", [
    id,
    assessment,
  ]);
  const reportPath = `${id}/${assessment}/report.pdf`;
  await query(
    `insert into public.reports (assessment_id, user_id, storage_path, size_bytes, sha256, renderer_version)
     values ($1, $2, $3, 4, repeat('a', 64), 'test')`,
    [assessment, id, reportPath],
  );
  await mkdir(dirname(join(folder, reportPath)), { recursive: true });
  await writeFile(join(folder, reportPath), "%PDF");
  return { id, email, reportPath };
}

/**
 * Rows anywhere in the schemas this repository owns (analytics, automation, pgmq, and public.reports)
 * whose text holds the user's id or address: what the erase must leave at zero.
 */
async function traces(user: User): Promise<Record<string, number>> {
  const tables = await query<{ name: string }>(
    `select format('%I.%I', n.nspname, c.relname) as name
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p', 'u') and (n.nspname in ('analytics', 'automation', 'pgmq')
            or (n.nspname = 'public' and c.relname = 'reports'))
      order by 1`,
  );
  const found: Record<string, number> = {};
  for (const { name } of tables) {
    const [row] = await query<{ n: number }>(
      `select count(*)::int as n from ${name} as t where strpos(lower(t::text), $1) > 0 or strpos(lower(t::text), $2) > 0`,
      [user.id, user.email],
    );
    if (row!.n > 0) found[name] = row!.n;
  }
  return found;
}

describe("balansity user erase", () => {
  let anna: User;
  let boris: User;
  let borisBefore: Record<string, number>;

  beforeAll(async () => {
    anna = await userWithData("anna.ivanova");
    boris = await userWithData("boris.petrov");
    borisBefore = await traces(boris);
  });

  it("finds each user's data in every place before the erase", async () => {
    const expected = {
      "analytics.daily_active_users": 1,
      "analytics.processed_events": 1,
      "automation.email_deliveries": 1,
      "automation.email_send_slots": 1,
      "automation.report_requests": 1,
      "automation.user_work_counts": 1,
      "pgmq.a_analytics_queue_dlq": 1,
      "pgmq.a_email_queue": 1,
      // Ours and the one the database's own triggers queued for the new user.
      "pgmq.q_analytics_queue": 2,
      "pgmq.q_email_queue": 1,
      "pgmq.q_email_queue_dlq": 1,
      "pgmq.q_report_generation_queue": 1,
      "public.reports": 1,
    };
    expect(await traces(anna)).toEqual(expected);
    expect(borisBefore).toEqual(expected);
  });

  it("refuses a user id that is not a UUID (2) and asks before erasing (2 off a terminal)", async () => {
    const bad = await runBalansity(["user", "erase", "anna"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('<user-id> must be a user id (a UUID), got "anna"');

    const unasked = await runBalansity(["user", "erase", anna.id], env);
    expect(unasked.code).toBe(2);
    expect(unasked.stderr).toContain("pass --yes to confirm");
    expect(Object.keys(await traces(anna))).toHaveLength(13);
  });

  it("--dry-run counts what it would erase and changes nothing", async () => {
    const run = await runBalansity(["user", "erase", anna.id, "--dry-run", "--json"], env);
    expect(run.code).toBe(0);
    const json = jsonOf(run) as { dry_run: boolean; counts: Record<string, number>; report_paths: string[] };
    expect(json.dry_run).toBe(true);
    expect(json.counts).toMatchObject({
      "pgmq.q_email_queue": 1,
      "pgmq.a_email_queue": 1,
      "pgmq.q_email_queue_dlq": 1,
      "pgmq.q_report_generation_queue": 1,
      "pgmq.q_analytics_queue": 2,
      "pgmq.a_analytics_queue_dlq": 1,
      "automation.email_deliveries (address removed)": 1,
      "automation.email_send_slots": 1,
      "analytics.processed_events": 1,
      "analytics.daily_active_users": 1,
      "automation.user_work_counts": 1,
      "automation.report_requests": 1,
      "public.reports": 1,
    });
    expect(json.report_paths).toEqual([anna.reportPath]);
    expect(Object.keys(await traces(anna))).toHaveLength(13);
  });

  it("erases everything of the user, keeps the delivery log's rows, deletes the report file, leaves the other user alone", async () => {
    const run = await runBalansity(["user", "erase", anna.id, "--yes", "--report-folder", folder], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`erased the personal data of user ${anna.id} (1 address matched):`);
    expect(run.stdout).toMatch(/pgmq\.q_email_queue_dlq\s+1/);
    expect(run.stdout).toContain("report files deleted: 1");
    expect(run.stdout).toContain("deleting the auth user");

    expect(await traces(anna)).toEqual({});
    // The delivery log keeps the row (counts) without the address.
    const log = await query<{ recipient: string | null; error: string }>(
      "select recipient, error from automation.email_deliveries where idempotency_key like 'log:%' and recipient is null",
    );
    expect(log).toEqual([{ recipient: null, error: "550 <[address removed]> unknown" }]);
    expect(await readdir(join(folder, anna.id, anna.reportPath.split("/")[1]!))).toEqual([]);

    expect(await traces(boris)).toEqual(borisBefore);
    expect(await readdir(dirname(join(folder, boris.reportPath)))).toEqual(["report.pdf"]);
  });

  it("a second erase finds nothing; without --report-folder it lists the files left for the operator", async () => {
    const again = await runBalansity(["user", "erase", anna.id, "--yes"], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`nothing of user ${anna.id} to erase here`);

    const run = await runBalansity(["user", "erase", boris.id, "--yes", "--json"], env);
    expect(run.code).toBe(0);
    const json = jsonOf(run) as { report_files: { deleted: string[]; left: { path: string }[] } };
    expect(json.report_files.deleted).toEqual([]);
    expect(json.report_files.left.map((file) => file.path)).toEqual([boris.reportPath]);
    expect(await traces(boris)).toEqual({});
  });
});
