import { isAbsolute, resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { ConfigError } from "../config-error.ts";
import type { DatabaseConfig } from "../database-config.ts";
import { describeDatabaseConfig } from "../describe-database-config.ts";
import { loadDatabaseConfig } from "../load-database-config.ts";
import { runTransfer, type TransferReport } from "./run-transfer.ts";
import { TransferError } from "./transfer-errors.ts";

export const TRANSFER_USAGE = `usage: db transfer --from <url> --to <url> [options]

  --from <url>             source database (or TRANSFER_FROM_URL, which keeps the password out of ps)
  --to <url>               target database (or TRANSFER_TO_URL); TLS per URL: ?sslmode=verify-full&sslrootcert=/path/ca.crt
  --tables <list>          schema.table, schema.* or a bare name; comma-separated or repeated
                           (default: every table of the --schema-map source schemas, else of public)
  --schema-map <from=to>   copy the tables of schema <from> into schema <to>, e.g. ai=public
  --batch-size <rows>      rows per batch, one transaction each (default 5000)
  --backup <method>        auto (pg_dump, else compressed JSON), pg_dump or json (default auto)
  --backup-dir <path>      where the backup goes (default ./transfer-backups)
  --triggers <skip|fire>   skip (default): the target's triggers and foreign-key checks do not fire for copied rows
  --restart                forget recorded progress and start from the first key (present rows are still skipped)
  --allow-no-rls           copy into tables of an API-exposed schema (public) whose row-level security is off
                           (refused otherwise: anyone with the anon key could read them)
  --create-tables          create a table the target lacks from the source's definition, with row-level
                           security on and no policy (without it a missing table is an error)

exit status: 0 every table verified equal, 1 a difference (or an error while copying), 2 bad usage or configuration`;

const optionsSchema = z.object({
  from: z.string().min(1, "--from is required (or set TRANSFER_FROM_URL)"),
  to: z.string().min(1, "--to is required (or set TRANSFER_TO_URL)"),
  tables: z.array(z.string().regex(/^[^,\s]+$/, "--tables entries are schema.table, schema.* or a name")),
  schemaMap: z.array(
    z.string().regex(/^[A-Za-z_][\w$]*=[A-Za-z_][\w$]*$/, "--schema-map is source=target, e.g. ai=public"),
  ),
  batchSize: z.coerce
    .number()
    .int("--batch-size must be a whole number")
    .min(1, "--batch-size must be from 1 to 1000000")
    .max(1_000_000, "--batch-size must be from 1 to 1000000"),
  backup: z.enum(["auto", "pg_dump", "json"], { message: "--backup must be auto, pg_dump or json" }),
  triggers: z.enum(["skip", "fire"], { message: "--triggers must be skip or fire" }),
});

/** Runs `db transfer`; returns the exit status. Output: progress on stderr, the report on stdout. */
export async function transferCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: { readonly stdout: NodeJS.WriteStream; readonly stderr: NodeJS.WriteStream },
): Promise<number> {
  const print = (line: string) => io.stdout.write(`${line}\n`);
  const printError = (line: string) => io.stderr.write(`${line}\n`);
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(argv).values;
  } catch (error) {
    printError(`${error instanceof Error ? error.message : String(error)}\n${TRANSFER_USAGE}`);
    return 2;
  }
  if (values.help) {
    print(TRANSFER_USAGE);
    return 0;
  }
  const split = (list: readonly string[] | undefined) =>
    (list ?? []).flatMap((item) => item.split(",")).filter((item) => item !== "");
  const parsed = optionsSchema.safeParse({
    from: values.from ?? env.TRANSFER_FROM_URL ?? "",
    to: values.to ?? env.TRANSFER_TO_URL ?? "",
    tables: split(values.tables),
    schemaMap: split(values["schema-map"]),
    batchSize: values["batch-size"],
    backup: values.backup,
    triggers: values.triggers,
  });
  if (!parsed.success) {
    printError(
      [
        "invalid transfer options:",
        ...parsed.error.issues.map((issue) => `- ${issue.message}`),
        TRANSFER_USAGE,
      ].join("\n"),
    );
    return 2;
  }
  const options = parsed.data;
  const configs: DatabaseConfig[] = [];
  const problems: string[] = [];
  for (const [flag, url] of [
    ["--from", options.from],
    ["--to", options.to],
  ] as const) {
    try {
      configs.push(
        loadDatabaseConfig({ DATABASE_URL: url }, { warn: (message) => printError(`${flag}: ${message}`) }),
      );
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(
        ...error.issues.map((issue) => `${flag}: ${issue.replaceAll("DATABASE_URL", "the URL")}`),
      );
    }
  }
  const [from, to] = configs;
  if (problems.length > 0 || from === undefined || to === undefined) {
    printError(["invalid transfer options:", ...problems.map((problem) => `- ${problem}`)].join("\n"));
    return 2;
  }
  const cwd = env.INIT_CWD ?? process.cwd(); // pnpm runs scripts in the package; paths are the caller's
  const backupDir = values["backup-dir"] ?? "transfer-backups";
  printError(`from ${describeDatabaseConfig(from)}`);
  printError(`to   ${describeDatabaseConfig(to)}`);
  let report: TransferReport;
  try {
    report = await runTransfer({
      from,
      to,
      tables: options.tables,
      schemaMap: new Map(options.schemaMap.map((pair) => pair.split("=") as [string, string])),
      batchSize: options.batchSize,
      backup: {
        method: options.backup,
        directory: isAbsolute(backupDir) ? backupDir : resolve(cwd, backupDir),
      },
      triggers: options.triggers,
      restart: values.restart ?? false,
      allowNoRls: values["allow-no-rls"] ?? false,
      createTables: values["create-tables"] ?? false,
      log: { info: printError, warn: (message) => printError(`warning: ${message}`) },
      progress: io.stderr,
    });
  } catch (error) {
    if (error instanceof TransferError) {
      printError(
        `transfer stopped before copying (${error.code}):\n${error.issues.map((issue) => `- ${issue}`).join("\n")}`,
      );
      return 2;
    }
    printError(`transfer failed: ${error instanceof Error ? error.message : String(error)}`);
    printError("the batches committed so far are recorded: run the same command again to resume");
    return 1;
  }
  for (const line of formatReport(report)) print(line);
  return report.equal ? 0 : 1;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: false,
    options: {
      from: { type: "string" },
      to: { type: "string" },
      tables: { type: "string", multiple: true },
      "schema-map": { type: "string", multiple: true },
      "batch-size": { type: "string", default: "5000" },
      backup: { type: "string", default: "auto" },
      "backup-dir": { type: "string" },
      triggers: { type: "string", default: "skip" },
      restart: { type: "boolean", default: false },
      "allow-no-rls": { type: "boolean", default: false },
      "create-tables": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

/** The verification report: one line per table, then the verdict. */
export function formatReport(report: TransferReport): string[] {
  const header = [
    "table",
    "copied",
    "skipped",
    "source rows",
    "target rows",
    "source checksum",
    "target checksum",
    "result",
  ];
  const rows = report.verification.map((check, i) => {
    const copy = report.tables[i];
    return [
      check.source === check.target ? check.target : `${check.source} → ${check.target}`,
      String(copy?.inserted ?? 0),
      String(copy?.skipped ?? 0),
      String(check.sourceDigest.rows),
      String(check.targetDigest.rows),
      check.sourceDigest.checksum,
      check.targetDigest.checksum,
      check.equal ? "equal" : "DIFFERENT",
    ];
  });
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();
  const different = report.verification.filter((check) => !check.equal).map((check) => check.target);
  const orphans = report.verification.flatMap((check) =>
    check.orphans.map(
      (orphan) =>
        `${check.target}: ${orphan.rows} rows reference ${orphan.references} rows the target does not have ` +
        `(${orphan.constraint}): copy ${orphan.references} too (add it to --tables), or remove those rows`,
    ),
  );
  return [
    line(header),
    ...rows.map(line),
    ...orphans,
    different.length === 0
      ? `verified: ${report.verification.length} tables equal in source and target (backup: ${report.backup.file})`
      : `DIFFERENT: ${different.join(", ")} (backup of the target before the transfer: ${report.backup.file})`,
  ];
}
