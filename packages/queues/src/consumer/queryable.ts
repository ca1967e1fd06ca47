/**
 * What the consumer primitives need from a database connection: node-postgres' `Pool`, `PoolClient`
 * and `Client` all fit. Pass a `PoolClient` inside `begin … commit` to make several calls atomic.
 */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}
