// The consumer's start-up list of SQL functions agrees with the one list of our functions, the API
// allow-list of @balansity/db: same signatures, same migrations, callable by service_role.
import { allowedFunctions } from "@balansity/db";
import { describe, expect, it } from "vitest";
import { consumerFunctions } from "../src/consumer/index.ts";

describe("consumer functions", () => {
  it.each(Object.entries(consumerFunctions))(
    "%s is in the API allow-list with migration %s",
    (signature, migration) => {
      const entry = allowedFunctions[signature];
      expect(entry, `${signature} is not in packages/db/src/api-allow-list.ts`).toBeDefined();
      expect(entry?.migration).toBe(migration);
      expect(entry?.execute).toContain("service_role");
    },
  );
});
