import type { QueueName } from "@balansity/queues";
import { archiveAndRead, type Queryable, type QueueRecord, read } from "@balansity/queues/consumer";

/** How a processor wants its queue read. Declared by the processor, applied by its consumer. */
export interface ReadPolicy {
  /**
   * Messages whose JSON contains this (`message @> first`, e.g. `{ priority: 1 }`) are read first;
   * the rest of the batch is filled with the oldest of the others.
   */
  readonly first?: Readonly<Record<string, unknown>>;
  /**
   * Replaces the read (and `first`): reads what may be handled now, e.g. no more emails than the send
   * budget has room for. `retryAt` says when the rest may be read: the consumer does not read before.
   */
  readonly read?: (db: Queryable, options: ReadArguments) => Promise<PolicyRead>;
}

export interface ReadArguments {
  readonly vt: number;
  readonly qty: number;
  readonly archive: readonly number[];
}

export interface PolicyRead {
  readonly records: QueueRecord[];
  /** Set when something other than the queue (the send budget) ended the read short. */
  readonly retryAt?: Date | undefined;
}

/**
 * Reads up to `qty` messages the way `policy` says, hiding them for `vt` seconds. `archive` (finished
 * messages) is archived by the first read, in the same statement: all or nothing.
 */
export async function readWithPolicy(
  db: Queryable,
  queue: QueueName,
  policy: ReadPolicy | undefined,
  options: ReadArguments,
): Promise<PolicyRead> {
  if (policy?.read) return policy.read(db, options);
  return { records: await readInOrder(db, queue, policy, options) };
}

async function readInOrder(
  db: Queryable,
  queue: QueueName,
  policy: ReadPolicy | undefined,
  options: ReadArguments,
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
