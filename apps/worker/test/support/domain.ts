import { randomUUID } from "node:crypto";
import type pg from "pg";

/** Creates a user the way sign-up does (auth.users → profile trigger) and returns its id. */
export async function createUser(
  db: pg.Pool,
  options: { email?: string; locale?: "ru" | "en"; timezone?: string; fullName?: string } = {},
): Promise<{ id: string; email: string }> {
  const id = randomUUID();
  const email = options.email ?? `user-${id.slice(0, 8)}@example.com`;
  await db.query("insert into auth.users (id, email, raw_user_meta_data) values ($1, $2, $3)", [
    id,
    email,
    {
      full_name: options.fullName ?? "Анна",
      locale: options.locale ?? "ru",
      timezone: options.timezone ?? "Europe/Moscow",
    },
  ]);
  return { id, email };
}

export async function createAssessment(db: pg.Pool, userId: string, title = "Баланс жизни"): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    "insert into public.assessments (user_id, kind, title) values ($1, 'wellbeing', $2) returning id",
    [userId, title],
  );
  return rows[0]!.id;
}

export async function completeAssessment(db: pg.Pool, id: string): Promise<void> {
  await db.query("update public.assessments set status = 'completed' where id = $1", [id]);
}

export async function queueLength(db: pg.Pool, queue: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(`select count(*) as n from pgmq.q_${queue}`);
  return Number(rows[0]!.n);
}

export async function deadLetters(db: pg.Pool, queue: string): Promise<Array<Record<string, unknown>>> {
  const { rows } = await db.query<{ message: Record<string, unknown> }>(
    `select message from pgmq.q_${queue}_dlq order by msg_id`,
  );
  return rows.map((row) => row.message);
}

/** Sends a raw message (even an invalid one) the way a buggy producer might. */
export async function sendRaw(db: pg.Pool, queue: string, message: unknown): Promise<number> {
  const { rows } = await db.query<{ id: string }>("select pgmq.send($1, $2::jsonb) as id", [
    queue,
    JSON.stringify(message),
  ]);
  return Number(rows[0]!.id);
}

export function emailMessage(to: string, key: string, overrides: Record<string, unknown> = {}) {
  return {
    version: 1,
    idempotency_key: key,
    to,
    template: "checkup_completed",
    locale: "ru",
    timezone: "Europe/Moscow",
    priority: 0,
    variables: { assessment_id: randomUUID(), assessment_title: "Баланс жизни", user_name: "Анна" },
    ...overrides,
  };
}
