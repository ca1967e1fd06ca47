import type { QueueName } from "@balansity/queues";
import { archiveAndRead, type Queryable, type QueueRecord, read } from "@balansity/queues/consumer";

/** How a processor wants its queue read. Declared by the processor, applied by its consumer. */
export interface ReadPolicy {
  /**
   * Messages whose JSON contains this (`message @> first`, e.g. `{ priority: 1 }`) are read first;
   * the rest of the batch is filled with the oldest of the others.
   */
  readonly first?: Readonly<Record<string, unknown>>;
}

/**
 * Reads up to `qty` messages the way `policy` says, hiding them for `vt` seconds. `archive` (finished
 * messages) is archived by the first read, in the same statement: all or nothing.
 */
export async function readWithPolicy(
  db: Queryable,
  queue: QueueName,
  policy: ReadPolicy | undefined,
  options: { readonly vt: number; readonly qty: number; readonly archive: readonly number[] },
): Promise<QueueRecord[]> {
  const { vt, qty, archive } = options;
  const conditional = policy?.first;
  const firstOptions = conditional ? { vt, qty, conditional } : { vt, qty };
  const first =
    archive.length > 0
      ? await archiveAndRead(db, queue, archive, firstOptions)
      : await read(db, queue, firstOptions);
  if (!conditional) return first;
  if (first.length >= qty) return first;
  const rest = await read(db, queue, { vt, qty: qty - first.length });
  return first.length === 0 ? rest : [...first, ...rest];
}
