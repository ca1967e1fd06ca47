import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["@balansity/devstack/vitest-global-setup"],
    // The scenario starts a worker process and waits for real emails.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
