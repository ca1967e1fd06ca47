// The worker as one JavaScript file (esbuild, the compiler tsx itself uses), to compare with running
// its TypeScript through tsx's loader: same code, no loader thread, no per-file transforms.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const WORKER_MAIN = fileURLToPath(new URL("../../apps/worker/src/main.ts", import.meta.url));

interface EsbuildApi {
  build(options: Record<string, unknown>): Promise<unknown>;
}

/** esbuild as installed for tsx (a bench dependency), so the bench needs no esbuild of its own. */
function esbuild(): EsbuildApi {
  const fromBench = createRequire(import.meta.url);
  const fromTsx = createRequire(fromBench.resolve("tsx/package.json"));
  return fromTsx("esbuild") as EsbuildApi;
}

/**
 * Bundles apps/worker/src/main.ts and its dependencies into `outfile` (ESM, Node 20). `replace` maps an
 * exact import specifier to a file (its subpaths are left alone), as the one-pass render prototype needs.
 */
export async function bundleWorker(
  outfile: string,
  replace: Readonly<Record<string, string>> = {},
): Promise<void> {
  const specifiers = Object.keys(replace);
  await esbuild().build({
    entryPoints: [WORKER_MAIN],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    jsx: "automatic",
    plugins: specifiers.length
      ? [
          {
            name: "replace-specifiers",
            setup(build: {
              onResolve(
                options: { filter: RegExp },
                callback: (args: { path: string }) => { path: string },
              ): void;
            }) {
              const filter = new RegExp(`^(${specifiers.map(escapeRegExp).join("|")})$`);
              build.onResolve({ filter }, (args) => ({ path: replace[args.path] ?? args.path }));
            },
          },
        ]
      : [],
    // Optional or development-only imports the worker never reaches (pg's native binding, kysely-codegen
    // behind a dynamic import in @balansity/db).
    external: ["pg-native", "kysely-codegen"],
    // Bundled CommonJS packages call require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
    },
    logLevel: "error",
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
