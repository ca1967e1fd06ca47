// @balansity/queues/pg: the producers' transport over node-postgres (server-only).

export { pgTransport } from "./pg-transport.ts";
