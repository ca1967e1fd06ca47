import { defineConfig } from "tsdown";

// The published package is what a frontend installs: the browser-safe entries only (the root and
// ./supabase). The server entries (kysely, consumer, pg) are used from source inside the workspace.
export default defineConfig({
  entry: { index: "src/index.ts", supabase: "src/supabase/index.ts" },
  format: "esm",
  platform: "browser",
  target: "es2022",
  outDir: "dist",
  clean: true,
  sourcemap: true,
  dts: { sourcemap: false, eager: true },
  // One output module per source module: with sideEffects: false an app bundles only what it imports
  // (the report calls need neither the catalog nor zod).
  unbundle: true,
  tsconfig: "tsconfig.build.json",
  // The email template catalog (zod schemas, no renderer) is bundled in, so that @balansity/emails,
  // with its React renderer, is no dependency of the published package. zod stays a dependency and
  // supabase-js the caller's.
  deps: { alwaysBundle: [/^@balansity\/emails/], neverBundle: [/^zod/, /^@supabase\//] },
});
