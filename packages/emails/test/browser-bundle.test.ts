import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type BuildOptions, build, type Plugin } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { emailTemplateExamples, renderEmail } from "../src/index.ts";

// The frontend imports @balansity/emails (template previews, variable schemas), so its entry must
// build for the browser: no node:* builtins, no pg, no nodemailer anywhere in the graph.

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const entry = fileURLToPath(new URL("../src/index.ts", import.meta.url));

/** An import of a Node builtin, in any form esbuild can emit (ESM, CommonJS, dynamic). */
const nodeBuiltinImport = /(?:\brequire\(\s*|\bfrom\s*|\bimport\(\s*|\bimport\s+)["']node:/;

/** Server-only packages. esbuild refuses node:* builtins for the browser on its own; these it would bundle. */
const serverOnlyPackage = /^(?:pg|pg-[\w.-]+|nodemailer)(?:\/|$)/;

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
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "silent",
  metafile: true,
  absWorkingDir: packageDir,
  plugins: [forbidServerOnlyPackages],
} satisfies BuildOptions;

function bundleSource(contents: string, platform: "browser" | "node" = "browser") {
  return build({ ...browserBuild, platform, stdin: { contents, resolveDir: packageDir, loader: "ts" } });
}

/** Both tests below read the same build of the package entry. */
let entryBuild: ReturnType<typeof build<typeof browserBuild>> | undefined;
function bundleEntry() {
  entryBuild ??= build({ ...browserBuild, entryPoints: [entry] });
  return entryBuild;
}

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("the browser bundle of src/index.ts", () => {
  it("builds with no node:* import, pg or nodemailer in it", async () => {
    const result = await bundleEntry();

    expect(result.errors).toEqual([]);
    const output = result.outputFiles[0]?.text ?? "";
    expect(output.length).toBeGreaterThan(0);
    expect(output).not.toMatch(nodeBuiltinImport);
    const bundled = Object.keys(result.metafile.inputs);
    expect(bundled.filter((path) => /node_modules\/(?:pg|nodemailer)\//.test(path))).toEqual([]);
    expect(bundled.some((path) => path.includes("@react-email/render/dist/browser/"))).toBe(true);
  }, 30_000);

  it("renders the same email as the Node build", async () => {
    const result = await bundleEntry();
    const dir = await mkdtemp(join(tmpdir(), "balansity-emails-"));
    scratch.push(dir);
    const file = join(dir, "emails.browser.mjs");
    await writeFile(file, result.outputFiles[0]?.text ?? "");
    const browser = (await import(pathToFileURL(file).href)) as { renderEmail: typeof renderEmail };

    const input = {
      template: "payment_succeeded",
      variables: emailTemplateExamples.payment_succeeded,
    } as const;
    const [fromBrowserBuild, fromNode] = await Promise.all([browser.renderEmail(input), renderEmail(input)]);

    expect(fromBrowserBuild.subject).toBe(fromNode.subject);
    expect(fromBrowserBuild.text).toBe(fromNode.text);
    expect(fromBrowserBuild.html).toContain("pay-7781");
  }, 30_000);
});

describe("the browser bundle of src/template-catalog.ts (@balansity/emails/catalog)", () => {
  it("builds without React or the renderer, for @balansity/queues' browser entry", async () => {
    const catalog = fileURLToPath(new URL("../src/template-catalog.ts", import.meta.url));
    const result = await build({ ...browserBuild, entryPoints: [catalog] });

    const bundled = Object.keys(result.metafile.inputs);
    expect(
      bundled.filter((path) => /node_modules\/(?:react|react-dom|@react-email\/[^/]+)\//.test(path)),
    ).toEqual([]);
    expect(result.outputFiles[0]?.text).not.toMatch(nodeBuiltinImport);
  }, 30_000);
});

describe("the check itself", () => {
  it.each(["node:stream", "fs", "pg", "nodemailer"])(
    "fails a browser build that imports %s",
    async (name) => {
      await expect(bundleSource(`import * as m from "${name}"; console.log(m);`)).rejects.toThrow(
        /Could not resolve|must not reach a browser bundle/,
      );
    },
  );

  it("recognises the node:* imports esbuild writes for other platforms", async () => {
    const result = await bundleSource(
      `import { Writable } from "node:stream"; console.log(Writable);`,
      "node",
    );
    expect(result.outputFiles[0]?.text).toMatch(nodeBuiltinImport);
    expect('const fs = require("node:fs");').toMatch(nodeBuiltinImport);
    expect('await import("node:fs")').toMatch(nodeBuiltinImport);
  });
});
