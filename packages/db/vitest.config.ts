import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // A path, not the package name: @balansity/devstack depends on @balansity/db (it runs the
    // migrations), so a package dependency back to it would make a cycle turbo refuses.
    globalSetup: ["../devstack/src/vitest-global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
