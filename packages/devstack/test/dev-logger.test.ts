// The devstack's log lines: pino-shaped JSON for tools, readable lines for people, chosen by LOG_FORMAT.
import { describe, expect, it } from "vitest";
import { createDevLogger, formatPrettyLine, resolveLogFormat } from "../src/dev-logger.ts";

const at = new Date(2026, 10, 28, 23, 58, 1).getTime();

function capture(isTTY: boolean) {
  const lines: string[] = [];
  return { lines, stream: { isTTY, write: (text: string) => lines.push(text) } };
}

describe("dev logger", () => {
  it("writes one pino-shaped JSON record per line with LOG_FORMAT=json", () => {
    const { lines, stream } = capture(false);
    const log = createDevLogger({ name: "devstack", format: "json", stream, now: () => at });
    log.info("mail received", { id: "3", to: "anna@example.com" });
    log.warn("slow");
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { level: 30, time: at, name: "devstack", msg: "mail received", id: "3", to: "anna@example.com" },
      { level: 40, time: at, name: "devstack", msg: "slow" },
    ]);
    expect(lines.every((line) => line.endsWith("}\n"))).toBe(true);
  });

  it("writes readable lines: local time, level, name, message, fields as key=value", () => {
    const { lines, stream } = capture(false);
    const log = createDevLogger({ name: "devstack", format: "pretty", stream, now: () => at });
    log.info("mail received", { id: "3", to: "anna@example.com", subject: "Отчёт готов" });
    log.error("port 54322 is taken");
    expect(lines).toEqual([
      '23:58:01 INFO  [devstack] mail received  id=3 to=anna@example.com subject="Отчёт готов"\n',
      "23:58:01 ERROR [devstack] port 54322 is taken\n",
    ]);
  });

  it("colours only a terminal that did not ask for NO_COLOR", () => {
    const record = { level: 40, time: at, name: "devstack", msg: "slow" };
    expect(formatPrettyLine(record, { color: true })).toContain("\u001b[33mWARN ");
    const terminal = capture(true);
    createDevLogger({ name: "devstack", format: "pretty", stream: terminal.stream, now: () => at }).info("x");
    expect(terminal.lines[0]).toContain("\u001b[");
    const noColor = capture(true);
    createDevLogger({
      name: "devstack",
      format: "pretty",
      stream: noColor.stream,
      env: { NO_COLOR: "1" },
      now: () => at,
    }).info("x");
    expect(noColor.lines[0]).toBe("23:58:01 INFO  [devstack] x\n");
  });

  it("takes LOG_FORMAT when set and names it when it is neither json nor pretty", () => {
    expect(resolveLogFormat({}, "pretty")).toBe("pretty");
    expect(resolveLogFormat({ LOG_FORMAT: "json" }, "pretty")).toBe("json");
    expect(resolveLogFormat({ LOG_FORMAT: "pretty" }, "json")).toBe("pretty");
    expect(() => resolveLogFormat({ LOG_FORMAT: "yaml" }, "pretty")).toThrow(
      'LOG_FORMAT must be json or pretty (got "yaml")',
    );
  });
});
