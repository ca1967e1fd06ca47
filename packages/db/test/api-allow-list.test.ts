// The allow-list (src/api-allow-list.ts) is the one list of our API functions: each entry names the
// migration that creates it, and docs/queue-contract.md's function table says what it says.
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { allowedFunctions } from "../src/api-allow-list.ts";
import { migrationsDirectory } from "../src/migrations/migrations-directory.ts";

const migrations = readdirSync(migrationsDirectory)
  .filter((file) => file.endsWith(".sql"))
  .sort();

/** The first migration with `create [or replace] function <name>(`: the one that creates it. */
function creatingMigration(qualifiedName: string): string | undefined {
  const [schema, name] = qualifiedName.split(".");
  const declaration = new RegExp(`create\\s+(or\\s+replace\\s+)?function\\s+${schema}\\.${name}\\s*\\(`, "i");
  return migrations.find((file) => declaration.test(readFileSync(join(migrationsDirectory, file), "utf8")));
}

const entries = Object.entries(allowedFunctions).map(([signature, entry]) => ({
  signature,
  name: signature.slice(0, signature.indexOf("(")),
  ...entry,
}));

describe("API allow-list", () => {
  it.each(entries.map((entry) => [entry.signature, entry] as const))(
    "%s names the migration that creates it",
    (_signature, entry) => {
      expect(creatingMigration(entry.name)).toBe(entry.migration);
    },
  );

  it("agrees with the function table of docs/queue-contract.md (name and who may call)", () => {
    const doc = readFileSync(resolve(migrationsDirectory, "../../docs/queue-contract.md"), "utf8");
    const section = doc.slice(doc.indexOf("## SQL functions"));
    const rows = section
      .split("\n")
      .filter((line) => /^\| `/.test(line))
      .map((line) => line.split("|").map((cell) => cell.trim()));
    expect(rows.length).toBeGreaterThan(0);
    const documented = rows.flatMap(([, functions = "", callers = ""]) =>
      [...functions.matchAll(/`(\w+)\(/g)].map((match) => ({ name: `public.${match[1]}`, callers })),
    );
    for (const { name, callers } of documented) {
      const listed = entries.filter((entry) => entry.name === name);
      expect(listed.length, `${name} is in docs/queue-contract.md but not in the allow-list`).toBeGreaterThan(
        0,
      );
      // The table's "who may call" starts with the roles, e.g. "service_role" or "authenticated (owner only ...)".
      const roles = callers
        .replace(/\(.*$/, "")
        .split(/,\s*|\s+and\s+/)
        .map((role) => role.trim())
        .filter(Boolean);
      for (const entry of listed) {
        expect([...entry.execute].sort(), `who may call ${name} (docs/queue-contract.md)`).toEqual(
          roles.sort(),
        );
      }
    }
  });
});
