import {
  type QueueRpcArgs,
  type QueueRpcName,
  type QueueTransport,
  queueRpcArgumentTypes,
} from "@balansity/queues";
import type { OperatorConnection } from "./operator-connection.ts";

/**
 * The `@balansity/queues` producers over the CLI's connection: `select public.<name>(arg => $1::type, …)`,
 * so the CLI validates input with the same zod schemas as the browser. Errors are the connection's
 * {@link CliError}s.
 */
export function operatorQueueTransport(db: OperatorConnection): QueueTransport {
  return {
    async call<N extends QueueRpcName>(name: N, args: QueueRpcArgs<N>): Promise<unknown> {
      const types: Readonly<Record<string, string>> = queueRpcArgumentTypes[name];
      const entries = Object.entries(args as Readonly<Record<string, unknown>>).filter(
        ([argument, value]) => value !== undefined && types[argument] !== undefined,
      );
      const list = entries.map(([argument], index) => `"${argument}" => $${index + 1}::${types[argument]}`);
      const values = entries.map(([argument, value]) =>
        types[argument] === "jsonb" && value !== null ? JSON.stringify(value) : value,
      );
      const rows = await db.query<{ result: unknown }>(
        `select public."${name}"(${list.join(", ")}) as result`,
        values,
      );
      return rows[0]?.result;
    },
  };
}
