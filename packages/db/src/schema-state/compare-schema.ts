import { apiRoles } from "../api-allow-list.ts";
import {
  byText,
  type CronJobState,
  type FunctionState,
  type GrantState,
  type NamedDefinition,
  type SchemaState,
  type TableState,
} from "./schema-state.ts";

/** What a {@link SchemaDifference} is about. */
export type SchemaDifferenceKind =
  | "missing-table"
  | "missing-column"
  /** The column exists with another type: `expected` and `found` are format_type() strings. */
  | "column-type"
  | "column-not-null"
  | "column-default"
  | "missing-constraint"
  | "different-constraint"
  /** Ours, as the migrations make it, but `NOT VALID` (see {@link SchemaComparison.unvalidated}). */
  | "unvalidated-constraint"
  | "missing-index"
  | "different-index"
  | "missing-policy"
  | "different-policy"
  | "row-security-off"
  | "missing-function"
  /** Same signature, another definition (body, return type, security, settings). */
  | "different-function"
  /** An overload of one of our function names that we do not declare: calls may become ambiguous. */
  | "extra-overload"
  | "missing-trigger"
  | "different-trigger"
  /** A trigger that is not ours executes one of our functions: the event fires it twice. */
  | "extra-trigger"
  | "missing-cron-job"
  | "different-cron-job"
  /** pg_cron is installed here and does not run one of our enabled jobs as defined. */
  | "unscheduled-cron-job"
  | "missing-queue"
  /** An API role (or PUBLIC) lacks a privilege the migrations grant. */
  | "missing-grant"
  /** An API role (or PUBLIC) holds a privilege the migrations do not grant. */
  | "excess-grant";

/** Something of ours that a live database lacks or has otherwise than the migrations make it. */
export interface SchemaDifference {
  readonly kind: SchemaDifferenceKind;
  /** `public.profiles`, `public.profiles.email`, `public.f(uuid)`, `trigger x on public.t`, `cron job y`. */
  readonly object: string;
  /** What the migrations make (a type, a definition, a privilege), where there is one to show. */
  readonly expected?: string;
  /** What the database has instead. */
  readonly found?: string;
  /** One sentence for a person. */
  readonly message: string;
}

/** What a {@link ForeignObject} is. */
export type ForeignObjectKind =
  | "table"
  | "view"
  | "column"
  | "constraint"
  | "index"
  | "policy"
  | "function"
  | "trigger"
  | "cron-job"
  | "queue";

/** An object that is not ours (the app's, the team's, the seed era's): information, never a failure. */
export interface ForeignObject {
  readonly kind: ForeignObjectKind;
  readonly object: string;
  readonly message: string;
}

/** The outcome of {@link compareSchema}. */
export interface SchemaComparison {
  /** Ours, missing or wrong: what blocks "the database is as the migrations make it". */
  readonly differences: readonly SchemaDifference[];
  /**
   * Our check and foreign key constraints that exist as the migrations make them but `NOT VALID`
   * (`db:adopt` adds them so to a table whose existing rows break them): new rows are checked, the
   * rows named in the plan still wait to be fixed and the constraint validated. Not a difference.
   */
  readonly unvalidated: readonly SchemaDifference[];
  /** Not ours: to list, never to touch or fail on. */
  readonly foreign: readonly ForeignObject[];
  /** True when there are no differences (foreign objects do not count). */
  readonly ok: boolean;
}

// The roles whose grants are compared: the ones the API acts as, and PUBLIC (which they inherit).
// Grants to other roles (Supabase's own, the team's) are not ours to judge.
const comparedGrantees: readonly string[] = ["public", ...apiRoles];

/**
 * Compares a live database (`actual`, from `introspectSchema()`) with the state the migrations make
 * (`expected`, usually `loadExpectedSchema()`): every table, column, constraint, index, policy,
 * function, trigger, cron job, queue and API grant of ours that is missing or different is a
 * difference; everything else the database holds in the same places is listed as foreign.
 *
 * Columns compare by name (their order does not matter) and type; function bodies as PostgreSQL
 * prints them. A view's query is not compared (see `renderSchemaSql`), its columns are.
 *
 * ### Examples
 * ```ts
 * import { compareSchema, introspectSchema, loadExpectedSchema } from "@balansity/db";
 *
 * const comparison = compareSchema(loadExpectedSchema(), await introspectSchema(pool));
 * for (const difference of comparison.differences) console.log("FAIL", difference.message);
 * for (const object of comparison.foreign) console.log("info", object.message);
 * ```
 */
export function compareSchema(expected: SchemaState, actual: SchemaState): SchemaComparison {
  const differences: SchemaDifference[] = [];
  const unvalidated: SchemaDifference[] = [];
  const foreign: ForeignObject[] = [];

  const actualTables = new Map(actual.tables.map((table) => [table.name, table]));
  for (const table of expected.tables) {
    const found = actualTables.get(table.name);
    if (found === undefined) {
      differences.push({
        kind: "missing-table",
        object: table.name,
        message: `${table.kind} ${table.name} does not exist`,
      });
      continue;
    }
    compareTable(table, found, differences, unvalidated, foreign);
  }
  const ourTables = new Set(expected.tables.map((table) => table.name));
  for (const table of actual.tables) {
    if (!ourTables.has(table.name)) {
      foreign.push({
        kind: table.kind,
        object: table.name,
        message: `${table.kind} ${table.name} is not ours`,
      });
    }
  }

  compareNamed(
    "index",
    expected.queueIndexes,
    actual.queueIndexes,
    (index) => `index ${index.name} (pgmq queue table)`,
    differences,
    foreign,
  );
  compareFunctions(expected.functions, actual.functions, differences, foreign);
  compareTriggers(expected, actual, differences, foreign);
  compareCronJobs(expected.cronJobs, actual, differences, foreign);

  const queues = new Set(actual.queues);
  for (const queue of expected.queues) {
    if (!queues.has(queue)) {
      differences.push({
        kind: "missing-queue",
        object: queue,
        message: `pgmq queue ${queue} does not exist`,
      });
    }
  }
  const ourQueues = new Set(expected.queues);
  for (const queue of actual.queues) {
    if (!ourQueues.has(queue)) {
      foreign.push({ kind: "queue", object: queue, message: `pgmq queue ${queue} is not ours` });
    }
  }

  return { differences, unvalidated, foreign, ok: differences.length === 0 };
}

function compareTable(
  table: TableState,
  found: TableState,
  differences: SchemaDifference[],
  unvalidated: SchemaDifference[],
  foreign: ForeignObject[],
): void {
  const columns = new Map(found.columns.map((column) => [column.name, column]));
  for (const column of table.columns) {
    const object = `${table.name}.${column.name}`;
    const other = columns.get(column.name);
    if (other === undefined) {
      differences.push({
        kind: "missing-column",
        object,
        expected: column.type,
        message: `column ${object} (${column.type}) does not exist`,
      });
      continue;
    }
    if (other.type !== column.type) {
      differences.push({
        kind: "column-type",
        object,
        expected: column.type,
        found: other.type,
        message: `column ${object} is ${other.type}, expected ${column.type}`,
      });
    }
    if (column.notNull && !other.notNull) {
      differences.push({
        kind: "column-not-null",
        object,
        expected: "not null",
        found: "null allowed",
        message: `column ${object} allows null, expected not null`,
      });
    }
    if ((column.default ?? "") !== (other.default ?? "") && table.kind === "table") {
      differences.push({
        kind: "column-default",
        object,
        expected: column.default ?? "no default",
        found: other.default ?? "no default",
        message: `column ${object} has default ${other.default ?? "none"}, expected ${column.default ?? "none"}`,
      });
    }
    compareGrants(`column ${object}`, column.grants, other.grants, differences);
  }
  const ourColumns = new Set(table.columns.map((column) => column.name));
  for (const column of found.columns) {
    if (!ourColumns.has(column.name)) {
      const object = `${table.name}.${column.name}`;
      foreign.push({ kind: "column", object, message: `column ${object} (${column.type}) is not ours` });
    }
  }

  // NOT VALID either way is no difference in kind: a migration may add a check NOT VALID for the rows
  // of a live database (found validated since: stronger, fine), and db:adopt adds ours NOT VALID where
  // existing rows break them (listed apart as unvalidated, for a person to fix the rows).
  const foundByName = new Map(found.constraints.map((constraint) => [constraint.name, constraint]));
  const notValidNames = new Set<string>();
  const expectedConstraints = table.constraints.map((item) => {
    const other = foundByName.get(item.name);
    if (other === undefined) return item;
    if (
      `${withoutNotValid(item.definition)} NOT VALID` === other.definition &&
      !item.definition.endsWith(NOT_VALID)
    ) {
      notValidNames.add(item.name);
      const object = `constraint ${item.name} on ${table.name}`;
      unvalidated.push({
        kind: "unvalidated-constraint",
        object,
        found: other.definition,
        message: `${object} is NOT VALID: rows from before it was added may break it; fix them, then alter table ${table.name} validate constraint ${item.name}`,
      });
    }
    return item.definition.endsWith(NOT_VALID) && withoutNotValid(item.definition) === other.definition
      ? other
      : item;
  });
  compareNamed(
    "constraint",
    expectedConstraints.filter((constraint) => !notValidNames.has(constraint.name)),
    found.constraints.filter((constraint) => !notValidNames.has(constraint.name)),
    (constraint) => `constraint ${constraint.name} on ${table.name}`,
    differences,
    foreign,
  );
  compareNamed(
    "index",
    table.indexes,
    found.indexes,
    (index) => `index ${index.name} on ${table.name}`,
    differences,
    foreign,
  );
  compareNamed(
    "policy",
    table.policies,
    found.policies,
    (policy) => `policy ${policy.name} on ${table.name}`,
    differences,
    foreign,
  );
  if (table.rowSecurity && !found.rowSecurity) {
    differences.push({
      kind: "row-security-off",
      object: table.name,
      message: `row level security is disabled on ${table.name}`,
    });
  }
  compareGrants(`table ${table.name}`, table.grants, found.grants, differences);
}

const NOT_VALID = " NOT VALID";

function withoutNotValid(definition: string): string {
  return definition.endsWith(NOT_VALID) ? definition.slice(0, -NOT_VALID.length) : definition;
}

/** Constraints, indexes and policies: by name, then by definition. */
function compareNamed(
  what: "constraint" | "index" | "policy",
  expected: readonly NamedDefinition[],
  actual: readonly NamedDefinition[],
  describe: (item: NamedDefinition) => string,
  differences: SchemaDifference[],
  foreign: ForeignObject[],
): void {
  const found = new Map(actual.map((item) => [item.name, item]));
  for (const item of expected) {
    const other = found.get(item.name);
    if (other === undefined) {
      differences.push({
        kind: `missing-${what}`,
        object: describe(item),
        expected: item.definition,
        message: `${describe(item)} does not exist`,
      });
    } else if (other.definition !== item.definition) {
      differences.push({
        kind: `different-${what}`,
        object: describe(item),
        expected: item.definition,
        found: other.definition,
        message: `${describe(item)} is ${other.definition}, expected ${item.definition}`,
      });
    }
  }
  const ours = new Set(expected.map((item) => item.name));
  for (const item of actual) {
    if (!ours.has(item.name)) {
      foreign.push({ kind: what, object: describe(item), message: `${describe(item)} is not ours` });
    }
  }
}

function compareGrants(
  object: string,
  expected: readonly GrantState[],
  actual: readonly GrantState[],
  differences: SchemaDifference[],
): void {
  const privileges = (grants: readonly GrantState[], grantee: string) =>
    new Set(grants.find((grant) => grant.grantee === grantee)?.privileges ?? []);
  for (const grantee of comparedGrantees) {
    const want = privileges(expected, grantee);
    const have = privileges(actual, grantee);
    // ALL covers every privilege (its list differs between PostgreSQL versions).
    for (const privilege of want) {
      if (!have.has(privilege) && !have.has("ALL")) {
        differences.push({
          kind: "missing-grant",
          object,
          expected: `${privilege} to ${grantee}`,
          message: `${grantee} lacks ${privilege} on ${object}`,
        });
      }
    }
    for (const privilege of have) {
      if (!want.has(privilege) && !want.has("ALL")) {
        differences.push({
          kind: "excess-grant",
          object,
          found: `${privilege} to ${grantee}`,
          message: `${grantee} has ${privilege} on ${object}, which the migrations do not grant`,
        });
      }
    }
  }
}

function compareFunctions(
  expected: readonly FunctionState[],
  actual: readonly FunctionState[],
  differences: SchemaDifference[],
  foreign: ForeignObject[],
): void {
  const found = new Map(actual.map((fn) => [fn.signature, fn]));
  for (const fn of expected) {
    const other = found.get(fn.signature);
    if (other === undefined) {
      differences.push({
        kind: "missing-function",
        object: fn.signature,
        expected: fn.definition,
        message: `function ${fn.signature} does not exist`,
      });
      continue;
    }
    if (normalizeDefinition(other.definition) !== normalizeDefinition(fn.definition)) {
      differences.push({
        kind: "different-function",
        object: fn.signature,
        expected: fn.definition,
        found: other.definition,
        message: `function ${fn.signature} differs from the migrations' version (body, return type or settings)`,
      });
    }
    compareGrants(`function ${fn.signature}`, fn.grants, other.grants, differences);
  }
  const signatures = new Set(expected.map((fn) => fn.signature));
  const names = new Set(expected.map((fn) => fn.name));
  for (const fn of actual) {
    if (signatures.has(fn.signature)) continue;
    if (names.has(fn.name)) {
      differences.push({
        kind: "extra-overload",
        object: fn.signature,
        found: fn.definition,
        message: `function ${fn.signature} is an overload of ${fn.name} that the migrations do not declare: calls may be ambiguous or reach it`,
      });
    } else {
      foreign.push({
        kind: "function",
        object: fn.signature,
        message: `function ${fn.signature} is not ours`,
      });
    }
  }
}

function compareTriggers(
  expected: SchemaState,
  actual: SchemaState,
  differences: SchemaDifference[],
  foreign: ForeignObject[],
): void {
  const key = (trigger: { table: string; name: string }) => `trigger ${trigger.name} on ${trigger.table}`;
  const found = new Map(actual.triggers.map((trigger) => [key(trigger), trigger]));
  for (const trigger of expected.triggers) {
    const other = found.get(key(trigger));
    if (other === undefined) {
      differences.push({
        kind: "missing-trigger",
        object: key(trigger),
        expected: trigger.definition,
        message: `${key(trigger)} does not exist`,
      });
    } else if (other.definition !== trigger.definition || other.enabled !== trigger.enabled) {
      differences.push({
        kind: "different-trigger",
        object: key(trigger),
        expected: describeTrigger(trigger),
        found: describeTrigger(other),
        message: `${key(trigger)} is ${describeTrigger(other)}, expected ${describeTrigger(trigger)}`,
      });
    }
  }
  const ours = new Set(expected.triggers.map(key));
  const ourFunctions = new Set(expected.functions.map((fn) => fn.name));
  for (const trigger of actual.triggers) {
    if (ours.has(key(trigger))) continue;
    if (ourFunctions.has(trigger.function)) {
      differences.push({
        kind: "extra-trigger",
        object: key(trigger),
        found: trigger.definition,
        message: `${key(trigger)} is not ours but executes ${trigger.function}: that event runs it once more`,
      });
    } else {
      foreign.push({ kind: "trigger", object: key(trigger), message: `${key(trigger)} is not ours` });
    }
  }
}

function compareCronJobs(
  expected: readonly CronJobState[],
  actual: SchemaState,
  differences: SchemaDifference[],
  foreign: ForeignObject[],
): void {
  const definitions = new Map(actual.cronJobs.map((job) => [job.name, job]));
  const scheduled =
    actual.scheduledCronJobs === null
      ? null
      : new Map(actual.scheduledCronJobs.map((job) => [job.name, job]));
  for (const job of expected) {
    const object = `cron job ${job.name}`;
    const definition = definitions.get(job.name);
    if (definition === undefined) {
      differences.push({
        kind: "missing-cron-job",
        object,
        expected: describeJob(job),
        message: `${object} is not defined in automation.cron_jobs`,
      });
    } else if (!sameJob(definition, job)) {
      // Whether a job is enabled is the operators' switch (automation.cron_jobs.enabled), not a difference.
      differences.push({
        kind: "different-cron-job",
        object,
        expected: describeJob(job),
        found: describeJob(definition),
        message: `${object} is defined as ${describeJob(definition)}, expected ${describeJob(job)}`,
      });
    }
    const running = scheduled?.get(job.name);
    const runs = job.enabled && definition?.enabled !== false;
    if (scheduled !== null && runs && (running === undefined || !sameJob(running, job) || !running.enabled)) {
      differences.push({
        kind: "unscheduled-cron-job",
        object,
        expected: describeJob(job),
        ...(running === undefined ? {} : { found: describeJob(running) }),
        message:
          running === undefined
            ? `${object} is not in cron.job`
            : `${object} runs in cron.job as ${describeJob(running)}, expected ${describeJob(job)}`,
      });
    }
  }
  const ours = new Set(expected.map((job) => job.name));
  const others = new Set(
    [...actual.cronJobs, ...(actual.scheduledCronJobs ?? [])]
      .map((job) => job.name)
      .filter((n) => !ours.has(n)),
  );
  for (const name of [...others].sort(byText)) {
    foreign.push({ kind: "cron-job", object: name, message: `cron job ${name} is not ours` });
  }
}

/** Same schedule and command (whether it is enabled is compared where it matters, by the caller). */
function sameJob(a: CronJobState, b: CronJobState): boolean {
  return a.schedule.trim() === b.schedule.trim() && normalizeSql(a.command) === normalizeSql(b.command);
}

function describeJob(job: CronJobState): string {
  return `"${job.schedule}" ${normalizeSql(job.command)}${job.enabled ? "" : " (disabled)"}`;
}

function describeTrigger(trigger: { definition: string; enabled: boolean }): string {
  return `${trigger.definition}${trigger.enabled ? "" : " (disabled)"}`;
}

function normalizeSql(text: string): string {
  return text.replace(/\s+/g, " ").replace(/;\s*$/, "").trim();
}

// Line endings and trailing blanks are how an editor saved the migration, not what the function does.
function normalizeDefinition(text: string): string {
  return text
    .replace(/\r\n/g, "\n")
    .replace(/[ \t]+$/gm, "")
    .trimEnd();
}
