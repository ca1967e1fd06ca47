/**
 * The devstack's log: pino-shaped JSON records (`{"level":30,"time":…,"name":"devstack","msg":…}`)
 * for tools, or one readable line per record for people:
 *
 *   23:58:01 INFO  [devstack] mail received  id=3 to=anna@example.com subject="Отчёт готов"
 *
 * LOG_FORMAT=json or pretty decides; left unset, the devstack prints readable lines, because it only
 * ever runs in development and `pnpm dev` (turbo) hands it a pipe, not a terminal.
 */

export type LogFormat = "json" | "pretty";
export type LogLevel = "info" | "warn" | "error";

/** pino's level numbers, so JSON records read the same as the worker's. */
const levelNumbers: Record<LogLevel, number> = { info: 30, warn: 40, error: 50 };

/** A record as written in JSON (pino's shape). */
export interface LogRecord {
  readonly level: number;
  readonly time: number;
  readonly name: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface LogStream {
  readonly isTTY?: boolean | undefined;
  write(text: string): unknown;
}

export interface DevLogger {
  info(msg: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(msg: string, fields?: Readonly<Record<string, unknown>>): void;
  error(msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

/**
 * LOG_FORMAT when it is `json` or `pretty`, else `fallback`.
 *
 * @throws {Error} naming LOG_FORMAT when it holds anything else.
 */
export function resolveLogFormat(
  env: Readonly<Record<string, string | undefined>>,
  fallback: LogFormat,
): LogFormat {
  const value = env.LOG_FORMAT;
  if (value === undefined || value === "") return fallback;
  if (value === "json" || value === "pretty") return value;
  throw new Error(`LOG_FORMAT must be json or pretty (got "${value}")`);
}

const labels: Record<number, string> = { 30: "INFO ", 40: "WARN ", 50: "ERROR" };
const colors: Record<number, string> = { 30: "\u001b[32m", 40: "\u001b[33m", 50: "\u001b[31m" };
const DIM = "\u001b[2m";
const RESET = "\u001b[0m";

/** A value as `key=value` shows it: bare when it is one plain word, else JSON (quoted, escaped). */
function showValue(value: unknown): string {
  if (typeof value === "string") return /^[\w.:/@+-]+$/u.test(value) ? value : JSON.stringify(value);
  if (value instanceof Error) return JSON.stringify(value.message);
  return JSON.stringify(value) ?? String(value);
}

/**
 * One record as a readable line: local time, level, name, message, then the other fields as
 * key=value. `color` adds ANSI colours (a terminal that did not ask for NO_COLOR).
 */
export function formatPrettyLine(record: LogRecord, options: { readonly color?: boolean } = {}): string {
  const { level, time, name, msg, ...fields } = record;
  const clock = new Date(time).toTimeString().slice(0, 8);
  const label = labels[level] ?? String(level).padEnd(5);
  const rest = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${showValue(value)}`)
    .join(" ");
  if (!options.color) return `${clock} ${label} [${name}] ${msg}${rest ? `  ${rest}` : ""}`;
  return `${DIM}${clock}${RESET} ${colors[level] ?? ""}${label}${RESET} ${DIM}[${name}]${RESET} ${msg}${rest ? `  ${DIM}${rest}${RESET}` : ""}`;
}

/**
 * A logger writing to `stream` (one line per record) in `format`. `now` is for tests.
 *
 * ### Examples
 * ```ts
 * const log = createDevLogger({ name: "devstack", format: resolveLogFormat(process.env, "pretty"), stream: process.stdout });
 * log.info("mail received", { id: "3", to: "anna@example.com" });
 * ```
 */
export function createDevLogger(options: {
  readonly name: string;
  readonly format: LogFormat;
  readonly stream: LogStream;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly now?: () => number;
}): DevLogger {
  const { name, format, stream, env = {}, now = Date.now } = options;
  const color = format === "pretty" && stream.isTTY === true && env.NO_COLOR === undefined;
  const write = (level: LogLevel, msg: string, fields: Readonly<Record<string, unknown>> = {}) => {
    const record: LogRecord = { level: levelNumbers[level], time: now(), name, msg, ...fields };
    stream.write(`${format === "json" ? JSON.stringify(record) : formatPrettyLine(record, { color })}\n`);
  };
  return {
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
  };
}
