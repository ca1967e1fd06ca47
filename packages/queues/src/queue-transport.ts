import { QueueRpcError } from "./errors.ts";

/**
 * The SQL functions the producers call (schema `public`, see docs/queue-contract.md), with the SQL
 * type of each argument. The kysely transport casts every argument to its type, so the call resolves
 * to exactly one function even when a value is null.
 */
export const queueRpcArgumentTypes = {
  queue_email_task: {
    to: "text",
    subject: "text",
    template: "text",
    variables: "jsonb",
    priority: "integer",
    locale: "text",
    timezone: "text",
    idempotency_key: "text",
    user_id: "uuid",
  },
  queue_report_generation: {
    assessment_id: "uuid",
    user_id: "uuid",
    report_type: "text",
    idempotency_key: "text",
    requested_by: "text",
  },
  queue_payment_processing: { payment_id: "uuid", action: "text", idempotency_key: "text" },
  track_event: {
    event: "text",
    entity_id: "text",
    user_id: "uuid",
    properties: "jsonb",
    occurred_at: "timestamptz",
    idempotency_key: "text",
  },
  request_assessment_report: { assessment_id: "uuid" },
  console_queue_test_email: { to_address: "text", template: "text", locale: "text" },
} as const satisfies Record<string, Record<string, SqlArgumentType>>;

/** The SQL types producer arguments have. */
export type SqlArgumentType = "text" | "jsonb" | "integer" | "uuid" | "timestamptz";

/** A function a transport can call. */
export type QueueRpcName = keyof typeof queueRpcArgumentTypes;

/** Named arguments of `name`; an argument left out takes the SQL default. */
export type QueueRpcArgs<N extends QueueRpcName> = {
  readonly [K in keyof (typeof queueRpcArgumentTypes)[N]]?: unknown;
};

/**
 * How a producer reaches the database: supabase-js (`@balansity/queues/supabase`) or kysely
 * (`@balansity/queues/kysely`). Both call the same SQL functions with named arguments.
 */
export interface QueueTransport {
  /**
   * Calls `public.<name>(arg => value, …)` and returns its result (a msg_id for every queue RPC).
   * Throws {@link QueueRpcError} when the database refuses the call.
   */
  call<N extends QueueRpcName>(name: N, args: QueueRpcArgs<N>): Promise<unknown>;
}

/** A msg_id as a transport returns it (JSON number, int8 text from node-postgres, bigint) → number. */
export function toMsgId(rpc: string, value: unknown): number {
  const id =
    typeof value === "number"
      ? value
      : typeof value === "string" || typeof value === "bigint"
        ? Number(value)
        : Number.NaN;
  if (!Number.isSafeInteger(id) || id <= 0) {
    throw new QueueRpcError({ rpc, message: `expected a msg_id, got ${JSON.stringify(String(value))}` });
  }
  return id;
}

/** The arguments that are set: an argument left undefined takes its SQL default. */
export function definedArguments<T extends Record<string, unknown>>(args: T): Partial<T> {
  return Object.fromEntries(Object.entries(args).filter(([, value]) => value !== undefined)) as Partial<T>;
}
