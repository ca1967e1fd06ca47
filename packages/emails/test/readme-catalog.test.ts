import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { emailTemplateNames, emailTemplateVariableSchemas } from "../src/index.ts";

/** Variables every template takes, which the README states once above the table. */
const common = ["user_name?", "app_url?"];

async function readmeCatalog() {
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  const rows = new Map<string, string[]>();
  // Rows of the catalog table: | `template` | sent when | `variable`, `optional?`, ... |
  for (const match of readme.matchAll(/^\|\s*`([a-z0-9_]+)`\s*\|[^|]+\|(.+)\|\s*$/gm)) {
    const [, template, variables] = match;
    if (template && variables)
      rows.set(
        template,
        [...variables.matchAll(/`([a-z0-9_]+\??)`/g)].map((m) => m[1] ?? ""),
      );
  }
  return rows;
}

describe("the README's template catalog", () => {
  it("lists every template with exactly its variables, optional ones marked with ?", async () => {
    const rows = await readmeCatalog();

    expect([...rows.keys()].sort()).toEqual([...emailTemplateNames].sort());
    for (const template of emailTemplateNames) {
      const shape = emailTemplateVariableSchemas[template].shape;
      const fromSchema = Object.entries(shape).map(([name, schema]) =>
        schema.safeParse(undefined).success ? `${name}?` : name,
      );
      expect([...(rows.get(template) ?? []), ...common].sort(), template).toEqual(fromSchema.sort());
    }
  });
});
