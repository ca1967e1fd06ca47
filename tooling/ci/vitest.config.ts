import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // The fixture is a project the reporter test runs on its own, not a test of this package.
    exclude: [...configDefaults.exclude, "test/fixtures/**"],
    testTimeout: 60_000,
  },
});
