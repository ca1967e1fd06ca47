import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import { redactConnectionString } from "./redact-connection-string.ts";
import { runSplinter, type SplinterFinding, summarizeSplinter } from "./run-splinter.ts";

export const ADVISORS_USAGE = `usage: db advisors --splinter <file> [--splinter <file> ...] [--info]

  --splinter <file>   Supabase's advisor SQL (splinter.sql, or lint files "create view lint.…"), which
                      you supply: it is not part of this repository. Each file runs in a transaction
                      that is rolled back, against the database in DATABASE_URL
  --info              list INFO findings too (by default they are only counted)

Prints every ERROR and WARN with its detail, then the counts per lint. Exit code 1 when a finding is
at ERROR or a file did not run (its error is printed: a Supabase-only object missing, say).`;

/** `db advisors`: runs splinter files the operator supplies and prints what they find. */
export async function advisorsCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: { readonly stdout: NodeJS.WritableStream; readonly stderr: NodeJS.WritableStream },
): Promise<number> {
  const print = (line: string) => io.stdout.write(`${line}\n`);
  const printError = (line: string) => io.stderr.write(`${line}\n`);
  let values: { splinter?: string[]; info?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        splinter: { type: "string", multiple: true },
        info: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    printError(`${error instanceof Error ? error.message : String(error)}\n${ADVISORS_USAGE}`);
    return 2;
  }
  if (values.help) {
    print(ADVISORS_USAGE);
    return 0;
  }
  const files = values.splinter ?? [];
  const url = env.DATABASE_URL;
  const problems = [
    files.length === 0 ? "--splinter: give at least one file" : undefined,
    url === undefined || url.trim() === "" ? "DATABASE_URL: not set (the database to check)" : undefined,
  ].filter((problem): problem is string => problem !== undefined);
  if (problems.length > 0 || url === undefined) {
    printError(`${problems.join("\n")}\n${ADVISORS_USAGE}`);
    return 2;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let failed = false;
  const all: SplinterFinding[] = [];
  try {
    print(`database advisors on ${redactConnectionString(url)}`);
    for (const file of files) {
      let findings: SplinterFinding[];
      try {
        findings = await runSplinter(client, await readFile(file, "utf8"));
      } catch (error) {
        failed = true;
        printError(`${file}: did not run: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      all.push(...findings);
      print(`${file}: ${findings.length} finding(s)`);
      for (const finding of findings) {
        if (finding.level !== "INFO" || values.info) {
          print(`  ${finding.level.padEnd(5)}  ${finding.name}  ${finding.detail}`);
        }
      }
    }
    print(summarizeSplinter(all));
  } finally {
    await client.end();
  }
  return failed || all.some((finding) => finding.level === "ERROR") ? 1 : 0;
}
