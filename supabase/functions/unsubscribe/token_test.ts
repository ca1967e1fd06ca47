import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { signUnsubscribeToken, verifyUnsubscribeToken } from "./token.ts";

// A fixed vector: the worker (node:crypto, apps/worker/test/list-unsubscribe.test.ts) makes the same.
const secret = "test-vector-secret-0123456789abcdefghij";
const userId = "5b0f7c2e-0000-4000-8000-000000000001";
const vector = "5b0f7c2e-0000-4000-8000-000000000001.5ObVSpVMMaAHjFlGMAn_U1NFnUI-4ObX0U_aWUvNw98";

Deno.test("signs and verifies the worker's token construction (fixed vector)", async () => {
  assertEquals(await signUnsubscribeToken(secret, userId, "reminders"), vector);
  assertEquals(await verifyUnsubscribeToken(secret, vector, "reminders"), userId);
});

Deno.test("refuses another secret, another purpose, a changed user id or signature", async () => {
  assertEquals(await verifyUnsubscribeToken(`${secret}x`, vector, "reminders"), undefined);
  assertEquals(await verifyUnsubscribeToken(secret, vector, "reports"), undefined);
  const otherUser = vector.replace("0001.", "0002.");
  assertEquals(await verifyUnsubscribeToken(secret, otherUser, "reminders"), undefined);
  const mac = vector.split(".")[1]!;
  const changed = `${userId}.${mac.slice(0, 10)}${mac[10] === "A" ? "B" : "A"}${mac.slice(11)}`;
  assertEquals(await verifyUnsubscribeToken(secret, changed, "reminders"), undefined);
  // The same bytes in a non-canonical spelling (the spare bits of the last character) are refused too.
  const spare = `${vector.slice(0, -1)}${vector.at(-1) === "8" ? "9" : "8"}`;
  assertEquals(await verifyUnsubscribeToken(secret, spare, "reminders"), undefined);
});

Deno.test("refuses malformed tokens without throwing", async () => {
  for (const token of [
    "",
    ".",
    userId,
    `${userId}.`,
    `${userId}.!!!`,
    `not-a-uuid.${vector.split(".")[1]}`,
    `${vector}.x`,
  ]) {
    assertEquals(await verifyUnsubscribeToken(secret, token, "reminders"), undefined, token);
  }
});
