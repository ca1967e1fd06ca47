import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["@balansity/devstack/vitest-global-setup"],
    // A registry, an npm install, a Vite build, a worker and a browser: minutes, not seconds.
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});
