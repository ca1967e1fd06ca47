// @balansity/queues/kysely: the kysely transport. Server-only.
export { kyselyTransport } from "./kysely-transport.ts";
