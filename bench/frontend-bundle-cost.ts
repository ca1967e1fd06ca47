// What @balansity/queues adds to a frontend that already has supabase-js: the published browser
// entries (packages/queues/dist, built first) bundled by esbuild for the browser, minified, gzip -9,
// with and without the package, and which inputs the added bytes come from.
//
//   pnpm --filter @balansity/bench run frontend-bundle-cost
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Metafile, type Plugin } from "esbuild";

const QUEUES = fileURLToPath(new URL("../packages/queues/", import.meta.url));
if (!process.argv.includes("--no-build"))
  execFileSync("pnpm", ["run", "build"], { cwd: QUEUES, stdio: "ignore" });

// The published files, as an installed package resolves them.
const publishedQueues: Plugin = {
  name: "published-queues",
  setup(builder) {
    builder.onResolve({ filter: /^@balansity\/queues(?:\/supabase)?$/ }, (args) => ({
      path: join(QUEUES, "dist", args.path.endsWith("/supabase") ? "supabase.js" : "index.js"),
    }));
  },
};

const base = `
import { createClient } from "@supabase/supabase-js";
const supabase = createClient("https://example.supabase.co", "anon");
globalThis.app = { supabase };
`;

const apps = {
  "supabase-js only": base,
  // What docs/frontend.md's example uses: the report calls and their errors.
  "+ report calls and errors": `${base}
import { NotCompletedError, NotOwnerError, NotSignedInError, RateLimitedError, requestAssessmentReport } from "@balansity/queues";
import { createReportDownloadUrl, supabaseTransport } from "@balansity/queues/supabase";
globalThis.app.queues = { NotCompletedError, NotOwnerError, NotSignedInError, RateLimitedError, requestAssessmentReport, createReportDownloadUrl, supabaseTransport };
`,
  // Everything both entries export (the catalog, every producer, every schema).
  "+ everything exported": `${base}
import * as queues from "@balansity/queues";
import * as queuesSupabase from "@balansity/queues/supabase";
globalThis.app.queues = { queues, queuesSupabase };
`,
};

interface Measured {
  readonly minified: number;
  readonly gzipped: number;
  readonly inputs: Record<string, number>;
}

async function measure(contents: string): Promise<Measured> {
  const result = await build({
    stdin: { contents, resolveDir: QUEUES, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    metafile: true,
    plugins: [publishedQueues],
    logLevel: "error",
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  return {
    minified: code.length,
    gzipped: gzipSync(code, { level: 9 }).length,
    inputs: byPackage(result.metafile),
  };
}

/** Minified bytes in the output per package (queues' own dist counted as "@balansity/queues"). */
function byPackage(metafile: Metafile): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = input.includes("packages/queues/dist")
        ? "@balansity/queues"
        : (/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? "app");
      totals[name] = (totals[name] ?? 0) + bytesInOutput;
    }
  }
  return totals;
}

const kB = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
const results = Object.fromEntries(
  await Promise.all(
    Object.entries(apps).map(async ([name, contents]) => [name, await measure(contents)] as const),
  ),
) as Record<keyof typeof apps, Measured>;
const baseline = results["supabase-js only"];

console.log("| app | minified | gzip -9 | added minified | added gzip -9 |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const [name, measured] of Object.entries(results)) {
  console.log(
    `| ${name} | ${kB(measured.minified)} | ${kB(measured.gzipped)} | ${kB(measured.minified - baseline.minified)} | ${kB(measured.gzipped - baseline.gzipped)} |`,
  );
}
for (const name of ["+ report calls and errors", "+ everything exported"] as const) {
  const added = Object.entries(results[name].inputs)
    .map(([pkg, bytes]) => [pkg, bytes - (baseline.inputs[pkg] ?? 0)] as const)
    .filter(([, bytes]) => bytes > 0)
    .sort((a, b) => b[1] - a[1]);
  console.log(
    `\n${name}: added minified bytes by package: ${added.map(([pkg, bytes]) => `${pkg} ${kB(bytes)}`).join(", ")}`,
  );
}
