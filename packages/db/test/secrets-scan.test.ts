// The secrets scan `pnpm test` runs (`pnpm run secrets:scan`: secretlint with the repository's
// .secretlintrc.json): it fails on a credential and passes the documented placeholders. The
// credential is made up at run time in a temporary folder outside the repository.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../../..");
const secretlint = join(root, "node_modules/.bin/secretlint");

let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "secrets-scan-"));
});

afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** Runs the scan as `pnpm run secrets:scan` does, in `folder`; resolves with its exit code and output. */
async function scan(): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await promisify(execFile)(
      secretlint,
      ["--secretlintrc", join(root, ".secretlintrc.json"), "**/*"],
      { cwd: folder },
    );
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

/** A token shaped like a GitHub personal access token; random, so it was never anyone's. */
function fakeGithubToken(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return `ghp_${Array.from(randomBytes(36), (byte) => alphabet[byte % alphabet.length]).join("")}`;
}

describe("secrets scan", () => {
  it("fails on a planted credential and names the file", async () => {
    await writeFile(join(folder, "deploy.env"), `GITHUB_TOKEN=${fakeGithubToken()}\n`);
    const result = await scan();
    expect(result.code).toBe(1);
    expect(result.output).toContain(join(folder, "deploy.env"));
    expect(result.output).toContain("[GITHUB_TOKEN]");
  });

  it("fails on a credential in a dotfile such as .env.production", async () => {
    await writeFile(join(folder, ".env.production"), `GITHUB_TOKEN=${fakeGithubToken()}\n`);
    const result = await scan();
    expect(result.code).toBe(1);
    expect(result.output).toContain(".env.production");
  });

  it("passes the documented placeholders of connection strings", async () => {
    await writeFile(
      join(folder, ".env.example"),
      "DATABASE_URL=postgresql://postgres.<project-ref>:<password>@aws-0-eu-north-1.pooler.supabase.com:5432/postgres\n",
    );
    expect(await scan()).toEqual({ code: 0, output: "" });
  });

  it("runs as part of pnpm test", async () => {
    const manifest = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(manifest.scripts["secrets:scan"]).toBe('secretlint "**/*"');
    expect(manifest.scripts.test).toContain("pnpm run secrets:scan");
  });
});
