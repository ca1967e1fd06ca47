import type { Queryable } from "../consumer/queryable.ts";
import { fromDatabaseError } from "../database-error.ts";
import { QueueRpcError } from "../errors.ts";
import {
  type QueueRpcArgs,
  type QueueRpcName,
  type QueueTransport,
  queueRpcArgumentTypes,
} from "../queue-transport.ts";

/**
 * A transport over node-postgres: each producer becomes `select public.<name>(arg => $1::type, …)`
 * on the given `Pool`, `PoolClient` or `Client`. Server-only. Pass a `PoolClient` inside
 * `begin … commit` and the message commits or rolls back with the rest of that transaction.
 *
 * ### Examples
 * ```ts
 * import { queueEmailTask } from "@balansity/queues";
 * import { pgTransport } from "@balansity/queues/pg";
 *
 * const { msgId } = await queueEmailTask(pgTransport(pool), {
 *   to: "anna@example.com",
 *   template: "report_ready",
 *   variables: { assessment_id: assessmentId, report_url: url },
 * });
 * ```
 */
export function pgTransport(q: Queryable): QueueTransport {
  return {
    async call<N extends QueueRpcName>(name: N, args: QueueRpcArgs<N>): Promise<unknown> {
      const types: Readonly<Record<string, string>> = queueRpcArgumentTypes[name];
      const values: unknown[] = [];
      const namedArguments: string[] = [];
      for (const [argument, value] of Object.entries(args as Readonly<Record<string, unknown>>)) {
        if (value === undefined) continue;
        const type = types[argument];
        if (type === undefined) {
          throw new QueueRpcError({ rpc: name, message: `${name} has no argument "${argument}"` });
        }
        // node-postgres would write a top-level array as a Postgres array; jsonb wants JSON text.
        values.push(type === "jsonb" && value !== null ? JSON.stringify(value) : value);
        // Argument names and types come from queueRpcArgumentTypes, never from the caller.
        namedArguments.push(`"${argument}" => $${values.length}::${type}`);
      }
      try {
        const { rows } = await q.query(
          `select public.${name}(${namedArguments.join(", ")}) as result`,
          values,
        );
        return (rows[0] as { result?: unknown } | undefined)?.result;
      } catch (error) {
        throw fromDatabaseError(name, error);
      }
    },
  };
}
