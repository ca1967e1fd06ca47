import { type QueryExecutorProvider, sql } from "kysely";
import { fromDatabaseError } from "../database-error.ts";
import { QueueRpcError } from "../errors.ts";
import {
  type QueueRpcArgs,
  type QueueRpcName,
  type QueueTransport,
  queueRpcArgumentTypes,
} from "../queue-transport.ts";

/**
 * A transport over kysely: each producer becomes `select public.<name>(arg => $1::type, …)` on the
 * given `Kysely` instance or transaction. Server-only. Inside a transaction the message commits or
 * rolls back with the rest of the caller's work.
 *
 * ### Examples
 * ```ts
 * import { queueEmailTask } from "@balansity/queues";
 * import { kyselyTransport } from "@balansity/queues/kysely";
 *
 * await db.transaction().execute(async (trx) => {
 *   await trx.updateTable("appointments").set({ status: "cancelled" }).where("id", "=", id).execute();
 *   await queueEmailTask(kyselyTransport(trx), { to, template: "appointment_confirmation", variables });
 * });
 * ```
 */
export function kyselyTransport(db: QueryExecutorProvider): QueueTransport {
  return {
    async call<N extends QueueRpcName>(name: N, args: QueueRpcArgs<N>): Promise<unknown> {
      const types: Readonly<Record<string, string>> = queueRpcArgumentTypes[name];
      const namedArguments = Object.entries(args as Readonly<Record<string, unknown>>)
        .filter(([, value]) => value !== undefined)
        .map(([argument, value]) => {
          const type = types[argument];
          if (type === undefined) {
            throw new QueueRpcError({ rpc: name, message: `${name} has no argument "${argument}"` });
          }
          // node-postgres would write a top-level array as a Postgres array; jsonb wants JSON text.
          const parameter = type === "jsonb" && value !== null ? JSON.stringify(value) : value;
          return sql`${sql.id(argument)} => ${parameter}::${sql.raw(type)}`;
        });
      const query = sql<{
        result: unknown;
      }>`select ${sql.id("public", name)}(${sql.join(namedArguments)}) as result`;
      try {
        const { rows } = await query.execute(db);
        return rows[0]?.result;
      } catch (error) {
        throw fromDatabaseError(name, error);
      }
    },
  };
}
