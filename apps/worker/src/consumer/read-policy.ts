import type { QueueName } from "@balansity/queues";
import { type Queryable, type QueueRecord, read } from "@balansity/queues/consumer";

/** How a processor wants its queue read. Declared by the processor, applied by its consumer. */
export interface ReadPolicy {
  /**
   * Messages whose JSON contains this (`message @> first`, e.g. `{ priority: 1 }`) are read first;
   * the rest of the batch is filled with the oldest of the others.
   */
  readonly first?: Readonly<Record<string, unknown>>;
}

/** Reads up to `qty` messages the way `policy` says, hiding them for `vt` seconds. */
export async function readWithPolicy(
  db: Queryable,
  queue: QueueName,
  policy: ReadPolicy | undefined,
  options: { readonly vt: number; readonly qty: number },
): Promise<QueueRecord[]> {
  const { vt, qty } = options;
  if (!policy?.first) return read(db, queue, { vt, qty });
  const first = await read(db, queue, { vt, qty, conditional: policy.first });
  if (first.length >= qty) return first;
  const rest = await read(db, queue, { vt, qty: qty - first.length });
  return first.length === 0 ? rest : [...first, ...rest];
}
