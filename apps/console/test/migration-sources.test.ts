import { existsSync } from "node:fs";
import { join } from "node:path";
import { migrationsDirectory } from "@balansity/db";
import { describe, expect, it } from "vitest";
import { migrationSources } from "../src/checks/migration-sources.ts";

describe("migration sources", () => {
  it.each(Object.values(migrationSources))("names a file that exists: %s", (file) => {
    expect(existsSync(join(migrationsDirectory, file))).toBe(true);
  });
});
