import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
    // Only the SQL tests use the database; the global setup starts one cluster for the run.
    globalSetup: ["@balansity/devstack/vitest-global-setup"],
    // render-report-pdf-memory.test.ts measures the heap after a full collection.
    execArgv: ["--expose-gc"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
