/**
 * Runs the SMTP sink as its own process:
 *
 * ```sh
 * tsx src/smtp-sink-cli.ts --smtp-port 1025 --http-port 1080
 * ```
 *
 * Prints one JSON line per event on stdout — first `{"event":"ready","host":…,"smtpPort":…,"httpPort":…,"url":…}`
 * once both servers listen (`spawnSmtpSinkProcess` waits for it), then `{"event":"message",…}` per accepted
 * message (id, recipients, subject; never the body) and `{"event":"stopped"}` — and stops cleanly on
 * SIGINT/SIGTERM. Bad flags exit with 2 and a usage text on stderr.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { failureModeSchema, parseSinkLimit, type SmtpSinkOptions, startSmtpSink } from "./smtp-sink.ts";

const USAGE = `usage: smtp-sink [options]

  --host <address>          interface to bind (default 127.0.0.1)
  --smtp-port <port>        SMTP port, 0 = a free one (default 0)
  --http-port <port>        HTTP view port, 0 = a free one (default 0)
  --max-messages <n>        messages kept in memory (default 1000)
  --auth-user <user>        require AUTH PLAIN/LOGIN with this user …
  --auth-pass <password>    … and this password
  --fail-with <json>        initial failure mode, e.g. '{"kind":"temporary","code":451,"remaining":2}'
  --limit <count>/<window>  play a provider's sending limit, e.g. 50/15m (nic.ru); windows in s, m, h
  --limit-code <code>       the reply past the limit (default 451 "4.7.1 Too many messages")
  -h, --help                show this text
`;

const STOP_TIMEOUT_MS = 5_000;

const integer = z
  .string()
  .regex(/^\d+$/, "must be a whole number")
  .transform((text) => Number(text));
const port = integer.pipe(z.int().min(0).max(65_535));

const flagsSchema = z
  .strictObject({
    host: z.string().min(1).exactOptional(),
    "smtp-port": port.exactOptional(),
    "http-port": port.exactOptional(),
    "max-messages": integer.pipe(z.int().min(1)).exactOptional(),
    "auth-user": z.string().min(1).exactOptional(),
    "auth-pass": z.string().exactOptional(),
    "fail-with": z
      .string()
      .transform((text, context) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          context.addIssue({ code: "custom", message: "is not valid JSON" });
          return z.NEVER;
        }
      })
      .pipe(failureModeSchema)
      .exactOptional(),
    limit: z
      .string()
      .regex(/^\d+\/\d*[smh]$/, "must be <count>/<window> in s, m or h, e.g. 50/15m")
      .exactOptional(),
    "limit-code": integer.pipe(z.int().min(400).max(599)).exactOptional(),
    help: z.boolean().exactOptional(),
  })
  .refine((flags) => (flags["auth-user"] === undefined) === (flags["auth-pass"] === undefined), {
    message: "--auth-user and --auth-pass go together",
  });

function writeEvent(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function fail(message: string): never {
  process.stderr.write(`smtp-sink: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseFlags(argv: readonly string[]): SmtpSinkOptions | undefined {
  let values: unknown;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: "string" },
        "smtp-port": { type: "string" },
        "http-port": { type: "string" },
        "max-messages": { type: "string" },
        "auth-user": { type: "string" },
        "auth-pass": { type: "string" },
        "fail-with": { type: "string" },
        limit: { type: "string" },
        "limit-code": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const parsed = flagsSchema.safeParse(values);
  if (!parsed.success) fail(z.prettifyError(parsed.error));
  const flags = parsed.data;
  if (flags.help) return undefined;
  const user = flags["auth-user"];
  const pass = flags["auth-pass"];
  return {
    host: flags.host,
    smtpPort: flags["smtp-port"],
    httpPort: flags["http-port"],
    maxMessages: flags["max-messages"],
    auth: user === undefined || pass === undefined ? undefined : { user, pass },
    failWith: flags["fail-with"],
    limit: flags.limit === undefined ? undefined : parseSinkLimit(flags.limit, flags["limit-code"]),
  };
}

async function main(): Promise<void> {
  const options = parseFlags(process.argv.slice(2));
  if (options === undefined) {
    process.stdout.write(USAGE);
    return;
  }
  const sink = await startSmtpSink({
    ...options,
    onMessage(message) {
      writeEvent({ event: "message", id: message.id, to: message.envelope.to, subject: message.subject });
    },
    onRefused(refused) {
      writeEvent({ event: "refused", reason: "limit", refused });
    },
  });

  const shutdown = (signal: NodeJS.Signals) => {
    process.off("SIGINT", shutdown);
    process.off("SIGTERM", shutdown);
    // A second signal, or a stop that hangs, ends the process the hard way.
    process.once(signal, () => process.exit(1));
    setTimeout(() => process.exit(1), STOP_TIMEOUT_MS).unref();
    sink.stop().then(
      () => writeEvent({ event: "stopped", signal }),
      (error: unknown) => {
        process.stderr.write(`smtp-sink: stop failed: ${String(error)}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  // Only now: whoever reads this line may signal the process right away.
  writeEvent({
    event: "ready",
    host: sink.host,
    smtpPort: sink.smtpPort,
    httpPort: sink.httpPort,
    url: sink.url,
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `smtp-sink: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
