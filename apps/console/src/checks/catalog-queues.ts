import { queueCatalog, queueNames } from "@balansity/queues";

/** A catalog queue and its dead-letter queue (packages/queues/src/catalog.ts). */
export interface CatalogQueue {
  readonly name: string;
  readonly deadLetterQueue: string;
}

/** Every queue of the catalog with its dead-letter queue, in catalog order. */
export const catalogQueues: readonly CatalogQueue[] = queueNames.map((name) => ({
  name,
  deadLetterQueue: queueCatalog[name].deadLetterQueue,
}));
