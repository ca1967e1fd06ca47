import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { inRanges, yookassaNotificationRanges } from "./ip-ranges.ts";

Deno.test("matches IPv4 addresses inside YooKassa's ranges only", () => {
  assertEquals(inRanges("185.71.76.0", yookassaNotificationRanges), true);
  assertEquals(inRanges("185.71.76.31", yookassaNotificationRanges), true);
  assertEquals(inRanges("185.71.76.32", yookassaNotificationRanges), false);
  assertEquals(inRanges("77.75.154.200", yookassaNotificationRanges), true);
  assertEquals(inRanges("77.75.156.12", yookassaNotificationRanges), false);
  assertEquals(inRanges("127.0.0.1", yookassaNotificationRanges), false);
});

Deno.test("matches IPv6 and IPv4-mapped addresses", () => {
  assertEquals(inRanges("2a02:5180::1", yookassaNotificationRanges), true);
  assertEquals(inRanges("2a02:5181::1", yookassaNotificationRanges), false);
  assertEquals(inRanges("::ffff:185.71.77.5", yookassaNotificationRanges), true);
  assertEquals(inRanges("::1", yookassaNotificationRanges), false);
});

Deno.test("treats malformed addresses as outside", () => {
  for (const address of ["", "999.1.1.1", "1.2.3", "2a02:::1", "not an ip"]) {
    assertEquals(inRanges(address, yookassaNotificationRanges), false, address);
  }
});
