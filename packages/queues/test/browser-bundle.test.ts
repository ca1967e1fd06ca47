import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type BuildOptions, type BuildResult, build, type Plugin } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import type * as Queues from "../src/index.ts";

// The frontend imports @balansity/queues and @balansity/queues/supabase, so both must build for
// the browser with nothing server-side in the graph: no node:* builtins, no pg, no kysely.

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const entry = (path: string) => fileURLToPath(new URL(`../src/${path}`, import.meta.url));

/** An import of a Node builtin, in any form esbuild can emit (ESM, CommonJS, dynamic). */
const nodeBuiltinImport = /(?:\brequire\(\s*|\bfrom\s*|\bimport\(\s*|\bimport\s+)["']node:/;
/** An import of a server-only package left in the output (as an external). */
const serverPackageImport =
  /(?:\brequire\(\s*|\bfrom\s*|\bimport\(\s*|\bimport\s+)["'](?:pg|pg-[\w.-]+|kysely)(?:\/[^"']*)?["']/;
/** Server-only packages. esbuild refuses node:* for the browser on its own; these it would bundle. */
const serverOnlyPackage = /^(?:pg|pg-[\w.-]+|kysely)(?:\/|$)/;

const forbidServerOnlyPackages: Plugin = {
  name: "forbid-server-only-packages",
  setup(builder) {
    builder.onResolve({ filter: serverOnlyPackage }, (args) => ({
      errors: [{ text: `"${args.path}" (imported by ${args.importer}) must not reach a browser bundle` }],
    }));
  },
};

const browserBuild = {
  bundle: true,
  write: false,
  platform: "browser",
  format: "esm",
  logLevel: "silent",
  metafile: true,
  absWorkingDir: packageDir,
  // The caller's copy of supabase-js: the transport only needs its types.
  external: ["@supabase/supabase-js"],
} satisfies BuildOptions;

/** Bundled files that belong to server-only packages. */
function serverInputs(result: BuildResult<{ metafile: true }>): string[] {
  return Object.keys(result.metafile.inputs).filter((path) =>
    /node_modules\/(?:\.pnpm\/)?(?:pg|pg-[\w.-]+|kysely)[@/]/.test(path),
  );
}

function expectBrowserPure(result: BuildResult<{ metafile: true; write: false }>) {
  expect(result.errors).toEqual([]);
  const output = result.outputFiles[0]?.text ?? "";
  expect(output.length).toBeGreaterThan(0);
  expect(output).not.toMatch(nodeBuiltinImport);
  expect(output).not.toMatch(serverPackageImport);
  expect(serverInputs(result)).toEqual([]);
}

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("browser bundles", () => {
  it.each(["index.ts", "supabase/index.ts"])(
    "src/%s builds for the browser with no node:*, pg or kysely",
    async (path) => {
      const result = await build({
        ...browserBuild,
        entryPoints: [entry(path)],
        plugins: [forbidServerOnlyPackages],
      });
      expectBrowserPure(result);
      if (path === "index.ts") {
        // The catalog and zod are in; the email templates' renderer is not (only its zod catalog).
        const inputs = Object.keys(result.metafile.inputs);
        expect(inputs.some((input) => input.endsWith("src/catalog.ts"))).toBe(true);
        expect(inputs.some((input) => input.includes("template-catalog.ts"))).toBe(true);
        expect(inputs.some((input) => /react|render-email/.test(input))).toBe(false);
      }
    },
    30_000,
  );

  it("the browser build validates as the Node build does", async () => {
    const result = await build({ ...browserBuild, entryPoints: [entry("index.ts")] });
    const dir = await mkdtemp(join(tmpdir(), "balansity-queues-"));
    scratch.push(dir);
    const file = join(dir, "queues.browser.mjs");
    await writeFile(file, result.outputFiles[0]?.text ?? "");
    const browser = (await import(pathToFileURL(file).href)) as typeof Queues;

    const calls: string[] = [];
    const transport: Queues.QueueTransport = {
      async call(name) {
        calls.push(name);
        return 1;
      },
    };
    const error = await browser
      .requestAssessmentReport(transport, "not-a-uuid")
      .catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(browser.InvalidMessageError);
    expect((error as Queues.InvalidMessageError).issues).toEqual([
      'request_assessment_report: "assessment_id" must be a UUID',
    ]);
    expect(calls).toEqual([]);
    expect(await browser.requestAssessmentReport(transport, "6f1c3d2e-8a4b-4c5d-9e6f-7a8b9c0d1e2f")).toEqual({
      msgId: 1,
    });
  }, 30_000);
});

describe("the check itself can fail", () => {
  it("flags the kysely entry: kysely is bundled into it", async () => {
    const bundled = await build({ ...browserBuild, entryPoints: [entry("kysely/index.ts")] });
    expect(serverInputs(bundled).length).toBeGreaterThan(0);
    expect(() => expectBrowserPure(bundled)).toThrow();

    await expect(
      build({
        ...browserBuild,
        entryPoints: [entry("kysely/index.ts")],
        plugins: [forbidServerOnlyPackages],
      }),
    ).rejects.toThrow(/"kysely" \(imported by .*kysely-transport\.ts\) must not reach a browser bundle/);
  }, 30_000);

  it.each(["node:crypto", "pg"])("refuses a browser build that imports %s", async (name) => {
    await expect(
      build({
        ...browserBuild,
        plugins: [forbidServerOnlyPackages],
        stdin: {
          contents: `import * as m from "${name}"; console.log(m);`,
          resolveDir: packageDir,
          loader: "ts",
        },
      }),
    ).rejects.toThrow(/Could not resolve|must not reach a browser bundle/);
  });

  it("recognises the node:* and server imports esbuild leaves for other platforms", async () => {
    const result = await build({
      ...browserBuild,
      platform: "node",
      external: ["pg"],
      stdin: {
        contents:
          'import { randomUUID } from "node:crypto"; import pg from "pg"; console.log(randomUUID(), pg);',
        resolveDir: packageDir,
        loader: "ts",
      },
    });
    const output = result.outputFiles[0]?.text ?? "";
    expect(output).toMatch(nodeBuiltinImport);
    expect(output).toMatch(serverPackageImport);
  });
});
