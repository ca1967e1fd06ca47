// Builds the production worker: src/main.ts and everything it imports (the workspace packages'
// TypeScript, react-email, pg, pino, …) as one ES module, dist/main.mjs, with its source map, and the
// SMTP thread (nodemailer) as dist/smtp-thread-body.mjs beside it. They run with plain node, no loader
// and no node_modules:
//
//   pnpm --filter @balansity/worker build          # → apps/worker/dist/main.mjs(.map)
//   node scripts/build.mjs --outdir /tmp/worker    # elsewhere (test/deploy-folder.test.ts)
//   node --enable-source-maps dist/main.mjs        # the start script: stack traces point at src/*.ts
//
// Measured by bench/report-throughput.ts (bench/RESULTS.md): idle RSS 80 MB (170 MB through tsx's loader,
// email-pipeline).
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { reportFontFiles } from "@balansity/reports/font-files";
import { build } from "esbuild";
import { ownCodeSourceMap } from "./own-code-source-map.mjs";

const workerDir = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({ options: { outdir: { type: "string", default: "dist" } } });
const outdir = resolve(workerDir, values.outdir);

// pdfkit (under the report PDF renderer) loads its standard font metrics, Helvetica being every
// document's default, through a require() it creates at run time, which a bundle cannot follow. Made
// static here, esbuild bundles them (each is still loaded only when asked for).
const pdfkitStandardFonts = {
  name: "pdfkit-standard-fonts",
  setup(context) {
    context.onLoad({ filter: /[\\/]pdfkit[\\/]js[\\/]pdfkit\.node\.mjs$/ }, async (args) => ({
      contents: (await readFile(args.path, "utf8")).replaceAll(
        "require$1('#standard-fonts/",
        "require('#standard-fonts/",
      ),
      loader: "js",
      resolveDir: dirname(args.path),
    }));
  },
};

// @react-pdf/hyphenate writes two characters above U+00FF into a regular expression literal, which
// esbuild leaves as they are (it escapes strings, not regular expressions): as \u escapes they mean the
// same and keep the bundle one byte per character (see wideCharacters below).
const hyphenateAsciiRegExp = {
  name: "hyphenate-ascii-regexp",
  setup(context) {
    context.onLoad({ filter: /[\\/]@react-pdf[\\/]hyphenate[\\/]lib[\\/]index\.js$/ }, async (args) => ({
      contents: (await readFile(args.path, "utf8")).replaceAll("\u2013-\u203C", "\\u2013-\\u203C"),
      loader: "js",
      resolveDir: dirname(args.path),
    }));
  },
};

await rm(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: workerDir,
  // The SMTP thread's body is a second entry: a worker thread starts from a file of its own.
  entryPoints: { main: "src/main.ts", "smtp-thread-body": "src/email/smtp-thread-body.ts" },
  outdir,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  jsx: "automatic",
  // V8 keeps a module's whole source in the heap for as long as the module lives: 8.5 million characters
  // as written, and two bytes per character once one of them is above U+00FF (comments brought 52). Without
  // comments and whitespace, with React's development builds dropped, and one byte per character, the
  // main bundle's source takes 4.3 MB instead of 17 MB (bench/RESULTS.md, report-throughput 2026-12-06).
  // Identifiers are kept: stack traces, logs and error classes keep their names.
  minifyWhitespace: true,
  minifySyntax: true,
  // The bundle is the production build (the image, PM2, systemd): React's packages pick their
  // production code by this, whatever NODE_ENV the worker is started with. No code of ours reads it.
  define: { "process.env.NODE_ENV": '"production"' },
  sourcemap: "linked",
  // Stack traces need the mappings only; the sources are in the repository, not in every image.
  sourcesContent: false,
  // Optional or development-only imports the worker never reaches: pg's native binding (behind
  // `pg.native`), kysely-codegen (a dynamic import in @balansity/db's type generator) and pino-pretty
  // (LOG_FORMAT=pretty, for `pnpm dev`). Left as imports, they fail only if ever reached.
  external: ["pg-native", "kysely-codegen", "pino-pretty"],
  // Bundled CommonJS packages (pg, nodemailer, …) call require() for node's built-ins: give the ES
  // module one.
  banner: {
    js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
  },
  plugins: [pdfkitStandardFonts, hyphenateAsciiRegExp],
  metafile: true,
  logLevel: "warning",
});

// A warning here is a build that differs from the one tested (e.g. a tsconfig.json whose base is
// missing, as in a pruned Docker context): stop.
if (result.warnings.length > 0) {
  console.error(`${result.warnings.length} warning(s) above: the bundle is not trusted`);
  process.exit(1);
}

// One character above U+00FF doubles the heap the bundle's source takes (see minifyWhitespace above).
for (const output of Object.keys(result.metafile.outputs).filter((path) => path.endsWith(".mjs"))) {
  const wide = wideCharacters(await readFile(resolve(workerDir, output), "utf8"));
  if (wide.length > 0) {
    console.error(
      `${output}: ${wide.length} character(s) above U+00FF make V8 keep it two bytes per character; first at ${wide[0]}`,
    );
    process.exit(1);
  }
}

// The maps keep the worker's own code only: node decodes a whole map on the first stack trace through
// its bundle, and the dependencies' mappings took ~100 MB of heap (see own-code-source-map.mjs).
for (const output of Object.keys(result.metafile.outputs).filter((path) => path.endsWith(".map"))) {
  const file = resolve(workerDir, output);
  await writeFile(file, JSON.stringify(ownCodeSourceMap(JSON.parse(await readFile(file, "utf8")))));
}

// The report PDF's fonts are files read at run time: @balansity/reports looks for them in fonts/ beside
// the bundle.
await mkdir(resolve(outdir, "fonts"), { recursive: true });
for (const file of reportFontFiles()) await copyFile(file, resolve(outdir, "fonts", basename(file)));

const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
console.log(
  `${outdir}: main.mjs and smtp-thread-body.mjs, ${(bytes / 1024 / 1024).toFixed(1)} MB with their maps`,
);

/** Where a text has characters above U+00FF, as "line L, column C" (at most 5). */
function wideCharacters(text) {
  const found = [];
  const lines = text.split("\n");
  for (let line = 0; line < lines.length && found.length < 5; line += 1) {
    const column = lines[line].search(/[\u0100-\uffff]/);
    if (column >= 0) found.push(`line ${line + 1}, column ${column + 1}`);
  }
  return found;
}
