import { loadExpectedSchema, type SchemaState } from "@balansity/db";

let loaded: SchemaState | undefined;

/**
 * The state the migrations make (supabase/schema.json), read on first use: the checks that must
 * tell our objects from the app's, the team's and the seed era's ask it what is ours.
 */
export function expectedSchema(): SchemaState {
  loaded ??= loadExpectedSchema();
  return loaded;
}

/** What is ours in an exposed schema: a table or view we create, or a function name we declare (any overload). */
export function isOurs(state: SchemaState): (object: string, kind: "function" | "relation") => boolean {
  const tables = new Set(state.tables.map((table) => table.name));
  const functionNames = new Set(state.functions.map((fn) => fn.name));
  return (object, kind) =>
    kind === "function" ? functionNames.has(object.slice(0, object.indexOf("("))) : tables.has(object);
}
