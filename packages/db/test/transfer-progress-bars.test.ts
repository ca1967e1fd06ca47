import { PassThrough } from "node:stream";
import { stripVTControlCharacters } from "node:util";
import { describe, expect, it } from "vitest";
import { createProgressBars } from "../src/transfer/progress-bars.ts";

/** A stream that says it is (or is not) a terminal, collecting what is written to it. */
function stream(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const passThrough = new PassThrough();
  passThrough.on("data", (chunk: Buffer) => chunks.push(chunk.toString("utf8")));
  Object.assign(passThrough, { isTTY, columns: 120, rows: 40 });
  // Remove terminal escape sequences: what a person sees, line by line.
  const text = () => stripVTControlCharacters(chunks.join(""));
  return { stream: passThrough as unknown as NodeJS.WriteStream, text };
}

describe("transfer progress", () => {
  it("draws a bar per table on a terminal, with rows done, total and percentage", async () => {
    const tty = stream(true);
    const bars = createProgressBars(tty.stream);
    const instances = bars.table("public.message_instances", 40, 0);
    instances.advance(40);
    instances.finish();
    const messages = bars.table("public.messages", 2000, 500); // resumed: 500 copied earlier
    messages.advance(700);
    bars.stop();
    const seen = tty.text();
    expect(seen).toMatch(/public\.message_instances\s+\[[█░]+\] 40\/40 rows \(100%\)/);
    expect(seen).toMatch(/public\.messages\s+\[[█░]+\] 1200\/2000 rows \(\s*60%\)/);
  });

  it("writes one line when a table starts and one when it ends anywhere else (CI logs, files)", () => {
    const log = stream(false);
    const bars = createProgressBars(log.stream);
    const table = bars.table("public.messages", 2000, 500);
    table.advance(1000);
    table.advance(500);
    table.finish();
    bars.stop();
    expect(log.text()).toBe(
      "copying public.messages: 2000 rows in the source, resuming after 500 copied earlier\ncopied public.messages: 1500 rows read\n",
    );
  });
});
