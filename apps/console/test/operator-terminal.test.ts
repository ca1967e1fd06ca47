// The terminal parts of the CLI: the progress bar (drawn only on a terminal) and the confirmation
// prompt (asked only on one), with streams that say they are terminals.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { CliError } from "../src/operator/cli-error.ts";
import { confirm } from "../src/operator/confirm.ts";
import { formatAge, formatTable } from "../src/operator/format-table.ts";
import { createProgressBar } from "../src/operator/progress-bar.ts";

function terminal(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 100, write: (text: string) => writes.push(text) } };
}

describe("progress bar", () => {
  it("redraws one line in place on a terminal and ends it", () => {
    const { writes, stream } = terminal(true);
    const bar = createProgressBar(stream, 10_000, "dead letters retried");
    bar.update(5_000);
    bar.update(10_000);
    bar.finish();
    expect(writes).toHaveLength(3);
    expect(writes[0]).toMatch(/^\r\[#{20}-{20}\] 5,000 \/ 10,000 dead letters retried$/);
    expect(writes[1]).toMatch(/^\r\[#{40}\] 10,000 \/ 10,000 dead letters retried$/);
    expect(writes[2]).toBe("\n");
  });

  it("draws nothing when the stream is not a terminal", () => {
    const { writes, stream } = terminal(false);
    const bar = createProgressBar(stream, 10, "done");
    bar.update(5);
    bar.finish();
    expect(writes).toEqual([]);
  });
});

describe("confirmation", () => {
  function prompt(answer: string) {
    const input = Object.assign(new PassThrough(), { isTTY: true });
    const output = new PassThrough();
    let asked = "";
    output.on("data", (chunk: Buffer) => {
      asked += chunk.toString();
    });
    setImmediate(() => input.write(`${answer}\n`));
    return { streams: { input, output }, asked: () => asked };
  }

  it("goes ahead on yes", async () => {
    const { streams, asked } = prompt("y");
    await confirm("Discard 3 dead letters of email_queue?", streams);
    expect(asked()).toBe("Discard 3 dead letters of email_queue? [y/N] ");
  });

  it("declines on anything else (exit 1)", async () => {
    const { streams } = prompt("");
    const error = await confirm("Discard?", streams).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ code: "declined", exitCode: 1 });
  });

  it("does not ask without a terminal (exit 2: pass --yes)", async () => {
    const input = Object.assign(new PassThrough(), { isTTY: false });
    const error = await confirm("Discard?", { input, output: new PassThrough() }).catch(
      (reason: unknown) => reason,
    );
    expect(error).toMatchObject({ code: "not_confirmed", exitCode: 2 });
  });
});

describe("tables", () => {
  it("aligns columns, numbers to the right, without trailing spaces", () => {
    expect(
      formatTable(
        [
          { name: "email_queue", depth: 12 },
          { name: "analytics_queue", depth: 3 },
        ],
        [
          { heading: "QUEUE", value: (row) => row.name },
          { heading: "DEPTH", value: (row) => String(row.depth), align: "right" },
        ],
      ),
    ).toEqual(["QUEUE            DEPTH", "email_queue         12", "analytics_queue      3"]);
    expect([formatAge(42), formatAge(425), formatAge(10_920), formatAge(180_000), formatAge(null)]).toEqual([
      "42s",
      "7m 5s",
      "3h 2m",
      "2d 2h",
      "-",
    ]);
  });
});
