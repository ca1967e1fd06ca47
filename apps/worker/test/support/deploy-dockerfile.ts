/**
 * Reads a Dockerfile into its stages and instructions, enough for tests to check what it copies and
 * runs without a Docker engine: line continuations, comments, `AS` stage names, `ARG` defaults and
 * `${NAME}` substitution, exec-form (JSON) arguments and RUN's own `--mount=…` flags.
 */
import { readFileSync } from "node:fs";

export interface DockerInstruction {
  /** Upper-cased: `RUN`, `COPY`, … */
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  readonly args: string;
  /** 1-based line of the keyword. */
  readonly line: number;
}

export interface DockerStage {
  /** The `AS` name, lower-cased as Docker treats it. */
  readonly name: string | undefined;
  /** The image after ARG substitution, e.g. `node:20-bookworm-slim`. */
  readonly image: string;
  readonly instructions: readonly DockerInstruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  readonly globalArgs: ReadonlyMap<string, string>;
  readonly stages: readonly DockerStage[];
}

/** Reads and parses the Dockerfile at `path`. */
export function readDockerfile(path: string): Dockerfile {
  return parseDockerfile(readFileSync(path, "utf8"));
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions: DockerInstruction[] = [];
  let pending: { keyword: string; parts: string[]; line: number } | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    // Comments (and parser directives) are whole lines; inside a continuation they are skipped too.
    if (trimmed.startsWith("#")) return;
    if (trimmed === "") {
      return;
    }
    const continues = trimmed.endsWith("\\");
    const content = continues ? trimmed.slice(0, -1).trim() : trimmed;
    if (pending) {
      pending.parts.push(content);
    } else {
      const match = /^(\S+)\s*(.*)$/.exec(content);
      if (!match) return;
      pending = { keyword: match[1]!.toUpperCase(), parts: [match[2]!], line: index + 1 };
    }
    if (!continues) {
      instructions.push({
        keyword: pending.keyword,
        args: pending.parts.join(" ").trim(),
        line: pending.line,
      });
      pending = undefined;
    }
  });

  const globalArgs = new Map<string, string>();
  const stages: { name: string | undefined; image: string; instructions: DockerInstruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const match = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!match) throw new Error(`line ${instruction.line}: cannot read FROM ${instruction.args}`);
      stages.push({
        name: match[2]?.toLowerCase(),
        image: substitute(match[1]!, globalArgs),
        instructions: [],
      });
    } else if (stages.length === 0) {
      if (instruction.keyword === "ARG") {
        const [name, value = ""] = instruction.args.split("=", 2);
        globalArgs.set(name!, value);
      }
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

/** The stage named `name`; throws when there is none. */
export function stage(dockerfile: Dockerfile, name: string): DockerStage {
  const found = dockerfile.stages.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`the Dockerfile has no stage named ${name}`);
  return found;
}

/** Instructions of one kind in a stage. */
export function instructionsOf(stage: DockerStage, keyword: string): DockerInstruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

/** The ARG defaults a stage declares (`ARG NAME=value`). */
export function stageArgs(stage: DockerStage): Map<string, string> {
  const args = new Map<string, string>();
  for (const instruction of instructionsOf(stage, "ARG")) {
    const [name, value = ""] = instruction.args.split("=", 2);
    args.set(name!, value);
  }
  return args;
}

/** `${NAME}` and `$NAME` replaced by their values (unknown names are left as they are). */
export function substitute(text: string, values: ReadonlyMap<string, string>): string {
  return text.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (whole, braced: string | undefined, bare: string | undefined) => {
      const value = values.get((braced ?? bare)!);
      return value ?? whole;
    },
  );
}

/** The argument list of an exec-form instruction (`["node", "x"]`), or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === "string")) {
    throw new Error(`not an exec-form argument list: ${args}`);
  }
  return parsed;
}

/**
 * A RUN or COPY instruction's own `--flag=value` options, and the rest. For RUN the rest is the shell
 * command; for COPY it is the sources followed by the destination.
 */
export function splitFlags(args: string): { flags: Map<string, string>; rest: string } {
  const flags = new Map<string, string>();
  let rest = args;
  for (;;) {
    const match = /^--([\w-]+)(?:=(\S*))?\s+/.exec(rest);
    if (!match) break;
    flags.set(match[1]!, match[2] ?? "");
    rest = rest.slice(match[0].length);
  }
  return { flags, rest };
}

/** The options of a HEALTHCHECK instruction and its command (exec form). */
export function healthcheckCommand(args: string): { options: Map<string, string>; command: string[] } {
  const { flags, rest } = splitFlags(args);
  const match = /^CMD\s+(.*)$/.exec(rest);
  const command = match ? execForm(match[1]!) : undefined;
  if (!command) throw new Error(`HEALTHCHECK must be CMD in exec form: ${args}`);
  return { options: flags, command };
}

/**
 * The build stage's `pnpm --filter <package> build` command as an argument list, with
 * `--outdir <outdir>` added so the bundle lands in `outdir` instead of the image's
 * `<WORKDIR>/<package folder>/dist`: what the tests run to build the same files. `workdir` is the
 * build stage's WORKDIR (`/repo`), where the pruned workspace is.
 */
export function buildCommand(
  dockerfile: Dockerfile,
  outdir: string,
): { command: string; args: string[]; filter: string; workdir: string } {
  const build = stage(dockerfile, "build");
  const runs = instructionsOf(build, "RUN")
    .map((instruction) => splitFlags(instruction.args).rest)
    .filter((command) => /^pnpm\s.*\bbuild$/.test(command));
  if (runs.length !== 1)
    throw new Error(`expected one pnpm build command in the build stage, found ${runs.length}`);
  const shell = runs[0]!;
  // Run without a shell: refuse anything a shell would interpret.
  if (/[;&|<>`$'"\\]/.test(shell)) throw new Error(`the build command must be one plain command: ${shell}`);
  const [command, ...args] = shell.split(/\s+/);
  const filter = args[args.indexOf("--filter") + 1];
  if (!command || !args.includes("--filter") || !filter)
    throw new Error(`the build command must name its package with --filter: ${shell}`);
  const workdirs = instructionsOf(build, "WORKDIR").map((instruction) => instruction.args);
  if (workdirs.length !== 1)
    throw new Error(`expected one WORKDIR in the build stage, found ${workdirs.length}`);
  return { command, args: [...args, "--outdir", outdir], filter, workdir: workdirs[0]! };
}
