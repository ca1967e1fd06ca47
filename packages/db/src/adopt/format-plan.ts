/** The plan as the operator reads it: one line per object, grouped by what happens to it. */
import { formatName } from "./migration-targets.ts";
import type { AdoptionPlan } from "./plan-adoption.ts";

export function formatPlan(plan: AdoptionPlan): string[] {
  const lines: string[] = [];
  if (plan.blockers.length > 0) {
    lines.push(`BLOCKS ADOPTION (${plan.blockers.length}): nothing will be changed until these are fixed`);
    for (const b of plan.blockers) lines.push(`  ${b.object}: expected ${b.expected}, found ${b.found}`);
  }
  if (plan.steps.length === 0) {
    lines.push(`nothing to do: every migration is recorded as applied (${plan.alreadyApplied.length})`);
    return lines;
  }
  lines.push(
    `${plan.steps.length} migration(s) to adopt, each in its own transaction (${plan.alreadyApplied.length} already applied):`,
  );
  for (const step of plan.steps) {
    lines.push(`  ${step.file.fileName}`);
    for (const table of step.tables) {
      const extra =
        table.extraColumns.length > 0 ? `; extra columns kept: ${table.extraColumns.join(", ")}` : "";
      lines.push(`    keep     table ${formatName(table.table)} (${table.rows} rows${extra})`);
      for (const column of table.addColumns)
        lines.push(`    add      column ${table.table.name}.${column.definition}`);
      for (const constraint of table.addConstraints) {
        const broken =
          constraint.violations === undefined
            ? ""
            : constraint.violations.count === 0
              ? ", no row breaks it (validated)"
              : `, ${constraint.violations.count} row(s) break it: ${constraint.violations.ids.join(", ")}`;
        lines.push(
          `    add      constraint ${table.table.name}.${constraint.name}${constraint.notValid ? " NOT VALID" : ""}${broken}`,
        );
      }
      for (const note of table.notes) lines.push(`    keep     ${table.table.name}.${note}`);
    }
    for (const trigger of step.dropTriggers)
      lines.push(
        `    drop     trigger ${trigger.name} on ${trigger.table} (fires ${trigger.fires}, replaced below)`,
      );
    for (const fn of step.replaceFunctions)
      lines.push(`    replace  function ${fn.existing} (by this file's, same name)`);
    for (const object of step.replaceObjects) lines.push(`    replace  ${object}`);
    for (const index of step.keepIndexes) lines.push(`    keep     index ${index}`);
    lines.push("    create   everything else the file defines");
  }
  const cron = plan.cron;
  if (cron.schema === null) {
    lines.push("pg_cron: not installed here; the worker's scheduler runs the jobs");
  } else {
    lines.push(`pg_cron: in schema ${cron.schema}`);
    for (const job of cron.updated) lines.push(`  update   cron job ${job} (by name)`);
    for (const job of cron.foreign) lines.push(`  keep     cron job ${job} and its run history (not ours)`);
    if (cron.move === "stay")
      lines.push(`  keep     pg_cron in ${cron.schema}: moving it to pg_catalog would delete the jobs above`);
    if (cron.move === "move")
      lines.push(
        "  convert  pg_cron: moved to pg_catalog (039), only our jobs exist and are scheduled again",
      );
  }
  for (const fn of plan.foreignFunctions) lines.push(`keep     function ${fn} (not ours)`);
  return lines;
}
