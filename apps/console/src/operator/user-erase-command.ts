import { rm } from "node:fs/promises";
import { isAbsolute, relative, resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { CliError } from "./cli-error.ts";
import { confirm } from "./confirm.ts";
import { type ErasedUserData, eraseUserData } from "./console-rpc.ts";
import { formatTable } from "./format-table.ts";
import { type CliContext, type CommandOutput, runOperatorCommand } from "./operator-command.ts";

type Exit = (code: number) => void;

interface EraseOptions {
  readonly email?: string;
  readonly reportFolder?: string;
  readonly dryRun?: boolean;
  readonly yes?: boolean;
  readonly json?: boolean;
}

const number = new Intl.NumberFormat("en-US");
const userId = z.uuid();
const address = z.email();

/** What the app erases itself when its auth user is deleted (001's cascades); printed after an erase. */
const APP_DATA_NOTE =
  "The app's own data (profile, checkups, appointments; payments keep the money record with the user removed) " +
  "is erased by deleting the auth user: Supabase dashboard > Authentication > Users, or auth.admin.deleteUser(id).";

/** `user erase <user-id>`: one user's personal data out of everything this repository keeps. */
export function addUserEraseCommand(program: Command, context: CliContext, exit: Exit): void {
  const user = program.command("user").description("one user's personal data");
  user
    .command("erase")
    .argument("<user-id>", "the user's id (auth.users.id, a UUID)")
    .description(
      "erase a user's personal data: queued, dead-lettered and archived messages, delivery-log addresses, analytics, report requests, reports; asks first",
    )
    .option(
      "--email <address>",
      "also the messages and delivery log of this address (when the profile is gone or changed)",
    )
    .option(
      "--report-folder <dir>",
      "the folder store's directory (the worker's REPORT_FS_DIR): delete the user's report files there too",
    )
    .option("--dry-run", "count what would be erased, change nothing")
    .option("--yes", "do not ask for confirmation (required when standard input is not a terminal)")
    .option("--json", "print JSON instead of a table")
    .action(async (id: string, options: EraseOptions) => {
      exit(
        await runOperatorCommand(
          context,
          options,
          async (db) => {
            const planned = await eraseUserData(db, id, options.email ?? null, true);
            const total = totalRows(planned) + planned.report_paths.length;
            if (options.dryRun) return summary(planned, "would erase", null);
            if (total === 0) {
              return {
                json: { ...planned, dry_run: false },
                lines: [`nothing of user ${id} to erase here`, APP_DATA_NOTE],
              };
            }
            if (!options.yes) {
              await confirm(
                `Erase the personal data of user ${id}: ${number.format(total)} rows and files? This cannot be undone.`,
                context.prompt,
              );
            }
            const erased = await eraseUserData(db, id, options.email ?? null, false);
            const files = await deleteReportFiles(erased.report_paths, options.reportFolder);
            return summary(erased, "erased", files);
          },
          () => {
            if (!userId.safeParse(id).success) {
              throw new CliError("invalid_argument", `<user-id> must be a user id (a UUID), got "${id}"`);
            }
            if (options.email !== undefined && !address.safeParse(options.email).success) {
              throw new CliError(
                "invalid_argument",
                `--email must be an email address, got "${options.email}"`,
              );
            }
          },
        ),
      );
    });
}

function totalRows(result: ErasedUserData): number {
  return Object.values(result.counts).reduce((sum, n) => sum + n, 0);
}

interface ReportFiles {
  readonly deleted: readonly string[];
  /** Not deleted: no --report-folder given (Supabase Storage), or the delete failed (with why). */
  readonly left: readonly { readonly path: string; readonly reason: string }[];
}

/** Deletes each report file under `folder`; a file already gone counts as deleted. */
async function deleteReportFiles(paths: readonly string[], folder: string | undefined): Promise<ReportFiles> {
  if (folder === undefined) {
    return { deleted: [], left: paths.map((path) => ({ path, reason: "no --report-folder given" })) };
  }
  const root = resolve(folder);
  const deleted: string[] = [];
  const left: { path: string; reason: string }[] = [];
  for (const path of paths) {
    const file = resolve(root, path);
    const inside = relative(root, file);
    // A stored path is relative (040 writes <user>/<checkup>/<name>.pdf): never leave the folder.
    if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) {
      left.push({ path, reason: "not a path inside the report folder" });
      continue;
    }
    try {
      await rm(file, { force: true });
      deleted.push(path);
    } catch (error) {
      left.push({ path, reason: (error as Error).message });
    }
  }
  return { deleted, left };
}

function summary(result: ErasedUserData, verb: string, files: ReportFiles | null): CommandOutput {
  const rows = Object.entries(result.counts).map(([place, rowsThere]) => ({ place, rows: rowsThere }));
  const lines = [
    `${verb} the personal data of user ${result.user_id} (${result.addresses} address${result.addresses === 1 ? "" : "es"} matched):`,
    ...formatTable(rows, [
      { heading: "PLACE", value: (row) => row.place },
      { heading: "ROWS", value: (row) => number.format(row.rows), align: "right" },
    ]),
  ];
  if (files === null) {
    lines.push(`report files in the store: ${result.report_paths.length}`);
  } else {
    if (files.deleted.length > 0) lines.push(`report files deleted: ${files.deleted.length}`);
    if (files.left.length > 0) {
      lines.push(
        `report files NOT deleted (${files.left.length}): delete them from the store yourself ` +
          "(Supabase Storage: bucket reports, dashboard > Storage or storage.from('reports').remove([...])):",
        ...files.left.map((file) => `  ${file.path} (${file.reason})`),
      );
    }
  }
  lines.push(APP_DATA_NOTE);
  return {
    json: { ...result, ...(files === null ? {} : { report_files: files }) },
    lines,
    // Files that could not be deleted from a folder we were given are a failure; ones in Storage are
    // the operator's next step, listed above.
    complete: files === null || files.left.every((file) => file.reason === "no --report-folder given"),
  };
}
