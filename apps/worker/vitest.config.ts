import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["@balansity/devstack/vitest-global-setup"],
    // Process-level failure tests (SIGKILL, restarts) run for tens of seconds on a loaded 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
