import { randomUUID } from "node:crypto";
import { type OpenTestDatabase, openTestDatabase } from "@balansity/devstack/testing";
import pg from "pg";

/** A migrated database of its own for one test file, and a pool on it (superuser, like the worker's owner role). */
export type QueueDatabase = OpenTestDatabase;

export function openQueueDatabase(): Promise<QueueDatabase> {
  return openTestDatabase("migrated");
}

/** Messages now in `queue` (pending, visible or not), oldest first. */
export async function messagesIn(
  pool: pg.Pool,
  queue: string,
): Promise<{ msg_id: number; message: Record<string, unknown> }[]> {
  const { rows } = await pool.query<{ msg_id: string; message: Record<string, unknown> }>(
    `select msg_id, message from pgmq.${pg.escapeIdentifier(`q_${queue}`)} order by msg_id`,
  );
  return rows.map((row) => ({ msg_id: Number(row.msg_id), message: row.message }));
}

/** Messages in `queue` carrying `idempotency_key`. */
export async function messagesWithKey(pool: pg.Pool, queue: string, key: string) {
  return (await messagesIn(pool, queue)).filter((row) => row.message.idempotency_key === key);
}

/** A user (auth.users; the 001 trigger makes the profile). */
export async function createUser(pool: pg.Pool, email = `user-${randomUUID().slice(0, 8)}@example.com`) {
  const id = randomUUID();
  await pool.query("insert into auth.users (id, email, raw_user_meta_data) values ($1, $2, '{}')", [
    id,
    email,
  ]);
  return { id, email };
}

/** A checkup of `userId`, completed unless said otherwise (inserted directly: no trigger fires). */
export async function createAssessment(
  pool: pg.Pool,
  userId: string,
  status: "completed" | "in_progress" = "completed",
) {
  const { rows } = await pool.query<{ id: string }>(
    "insert into public.assessments (user_id, kind, title, status) values ($1, 'wellbeing', 'Checkup', $2) returning id",
    [userId, status],
  );
  return rows[0]!.id;
}

/** Sends `message` straight with pgmq.send (no checks): for consumer tests. */
export async function sendRaw(
  pool: pg.Pool,
  queue: string,
  message: unknown,
  delaySeconds = 0,
): Promise<number> {
  const { rows } = await pool.query<{ msg_id: string }>(
    "select pgmq.send($1::text, $2::jsonb, $3::integer) as msg_id",
    [queue, JSON.stringify(message), delaySeconds],
  );
  return Number(rows[0]!.msg_id);
}

/** A valid email_queue message, as queue_email_task would make it. */
export function emailMessage(overrides: Record<string, unknown> = {}) {
  return {
    version: 1,
    idempotency_key: `test:${randomUUID()}`,
    to: "anna@example.com",
    template: "report_ready",
    subject: null,
    locale: "ru",
    timezone: "Europe/Moscow",
    variables: { assessment_id: randomUUID(), report_url: "https://app.balansity.ru/reports/1" },
    priority: 0,
    user_id: null,
    ...overrides,
  };
}

/** Wraps a pool to count the statements a primitive sends. */
export function countingQueryable(pool: pg.Pool) {
  const statements: string[] = [];
  return {
    statements,
    queryable: {
      query(text: string, values?: unknown[]) {
        statements.push(text);
        return pool.query(text, values);
      },
    },
  };
}
