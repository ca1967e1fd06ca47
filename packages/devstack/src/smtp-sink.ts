/**
 * A local SMTP sink: a real SMTP server (smtp-server + mailparser) that accepts every message, keeps the
 * last `maxMessages` in memory and shows them over a small HTTP/JSON view (node:http).
 *
 * Tests send through the real SMTP path (nodemailer → TCP → this server) and then look at what arrived,
 * either in-process (`sink.messages()`, `sink.waitForMessages()`) or over HTTP from another process.
 * Failure injection (`setFailureMode`, `POST /failure-mode`) makes the server answer 4xx or 5xx so the
 * retry and dead-letter paths of the email worker can be tested against a real server.
 *
 * HTTP routes (all JSON unless noted):
 *
 * | route                        | what it does                                                       |
 * | ---------------------------- | ------------------------------------------------------------------ |
 * | `GET /`                      | a small HTML page listing the messages (newest first)              |
 * | `GET /healthz`               | `{ "status": "ok", "messages": n, "refused": n }` (refused: by `limit`) |
 * | `GET /messages[?to=addr]`    | every message (oldest first), optionally only those to `addr`      |
 * | `DELETE /messages`           | forgets every message (204)                                        |
 * | `GET /messages/:id`          | one message (404 when unknown)                                     |
 * | `GET /messages/:id/html`     | its HTML body as `text/html`, scripts blocked by CSP (404 if none)  |
 * | `GET /messages/:id/attachments/:index-or-name` | one attachment's bytes, with its content type (404 if none) |
 * | `GET /failure-mode`          | the current failure mode                                           |
 * | `POST /failure-mode`         | sets it; the body is a {@link FailureMode} (400 when invalid)      |
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type AddressObject, type EmailAddress, type ParsedMail, simpleParser } from "mailparser";
import {
  SMTPServer,
  type SMTPServerAuthentication,
  type SMTPServerAuthenticationResponse,
  type SMTPServerDataStream,
  type SMTPServerError,
  type SMTPServerSession,
} from "smtp-server";
import { z } from "zod";

/** The largest message the sink accepts (advertised with the SIZE extension); larger ones get 552. */
export const SMTP_SINK_MAX_MESSAGE_BYTES = 25 * 1024 * 1024;

const DEFAULT_MAX_MESSAGES = 1000;
const DEFAULT_WAIT_TIMEOUT_MS = 10_000;
const MAX_REQUEST_BODY_BYTES = 64 * 1024;

const stageSchema = z.enum(["rcpt", "data"]);
/** The text after the reply code, e.g. `4.7.1 Too many messages` (one line, printable). */
const replyTextSchema = z.string().regex(/^[\x20-\x7e]{1,200}$/, "must be one line of printable ASCII");

/**
 * How the sink answers the next messages. Validated by {@link failureModeSchema}, both in
 * `setFailureMode` and in `POST /failure-mode`.
 *
 * - `none`: accept everything (the default).
 * - `temporary`: reject with `code` (4xx, default 451) — for the next `remaining` messages when given,
 *   then back to `none`; until changed otherwise.
 * - `permanent`: reject with `code` (5xx, default 550), for `remaining` messages or until changed.
 *
 * `message` replaces the reply's text (after the code), e.g. `5.7.1 Message rate limit exceeded`.
 *
 * `stage` says where the rejection happens: `rcpt` (default) answers every `RCPT TO` with the code, so
 * nodemailer fails with `EENVELOPE`; `data` takes the whole message and answers the end of `DATA` with
 * it, so nodemailer fails with `EMESSAGE`. Either way `error.responseCode` is the code. One message is
 * one SMTP transaction (`MAIL FROM` … `DATA`); `remaining` counts transactions, whatever the number of
 * recipients.
 */
export const failureModeSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("none") }),
  z.strictObject({
    kind: z.literal("temporary"),
    code: z.int().min(400).max(499).exactOptional(),
    remaining: z.int().min(1).exactOptional(),
    stage: stageSchema.exactOptional(),
    message: replyTextSchema.exactOptional(),
  }),
  z.strictObject({
    kind: z.literal("permanent"),
    code: z.int().min(500).max(599).exactOptional(),
    remaining: z.int().min(1).exactOptional(),
    stage: stageSchema.exactOptional(),
    message: replyTextSchema.exactOptional(),
  }),
]);

export type FailureMode = z.infer<typeof failureModeSchema>;

/** Where a rejection is answered: at each `RCPT TO`, or at the end of `DATA`. */
export type FailureStage = z.infer<typeof stageSchema>;

export interface SmtpSinkOptions {
  /** Interface both servers bind to. Default `127.0.0.1`. */
  readonly host?: string | undefined;
  /** SMTP port; `0` (the default) picks a free one. */
  readonly smtpPort?: number | undefined;
  /** HTTP port; `0` (the default) picks a free one. */
  readonly httpPort?: number | undefined;
  /** How many messages to keep; the oldest are dropped first. Default 1000. */
  readonly maxMessages?: number | undefined;
  /**
   * When set, clients must `AUTH PLAIN` or `AUTH LOGIN` (over plain TCP) with exactly these credentials:
   * a wrong password gets 535, mail without `AUTH` gets 530. When not set, `AUTH` is optional and any
   * credentials are accepted.
   */
  readonly auth?: { readonly user: string; readonly pass: string } | undefined;
  /** The failure mode to start in. Default `{ kind: "none" }`. */
  readonly failWith?: FailureMode | undefined;
  /** Called after each message is stored (the CLI logs a line with it). */
  readonly onMessage?: ((message: ReceivedMessage) => void) | undefined;
  /**
   * Plays a provider's sending limit: at most `count` transactions in any `windowMs` (a sliding
   * window, counted at `MAIL FROM`); past it every `RCPT TO` gets `code` (default 451, "4.7.1 too many
   * messages") until the window has room again. Failure modes still come first.
   */
  readonly limit?: SinkLimit | undefined;
  /** Called for each transaction the limit refuses. */
  readonly onRefused?: ((refused: number) => void) | undefined;
}

/** A sending limit the sink enforces like a provider (see `SmtpSinkOptions.limit`). */
export interface SinkLimit {
  readonly count: number;
  readonly windowMs: number;
  /** 4xx (throttled, "try again later") or 5xx (a "rate limit exceeded" rejection). Default 451. */
  readonly code?: number | undefined;
}

const WINDOW_UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

/**
 * `50/15m` → `{ count: 50, windowMs: 900000 }` (windows in s, m, h; `500/h` is one hour). Throws
 * `SmtpSinkError` code `INVALID_OPTIONS` naming the expected form.
 */
export function parseSinkLimit(text: string, code?: number): SinkLimit {
  const match = /^(\d+)\/(\d*)([smh])$/.exec(text.trim());
  const count = Number(match?.[1]);
  const windowMs =
    Number(match?.[2] || 1) * WINDOW_UNIT_MS[(match?.[3] ?? "s") as keyof typeof WINDOW_UNIT_MS];
  if (!match || count < 1 || windowMs < 1) {
    throw new SmtpSinkError(
      "INVALID_OPTIONS",
      `limit must be <count>/<window> in s, m or h, e.g. 50/15m (got "${text}")`,
    );
  }
  if (code !== undefined && (!Number.isInteger(code) || code < 400 || code > 599)) {
    throw new SmtpSinkError("INVALID_OPTIONS", `limit code must be a 4xx or 5xx reply code (got ${code})`);
  }
  return { count, windowMs, code };
}

export interface ReceivedAttachment {
  readonly filename: string | null;
  readonly contentType: string;
  /** Decoded size in bytes. */
  readonly size: number;
}

/** One accepted message, parsed. Serialised as is by the HTTP view. */
export interface ReceivedMessage {
  /** Sequential per sink (`"1"`, `"2"`, …), never reused, not even after `clear()`. */
  readonly id: string;
  /** When the end of `DATA` was accepted, ISO 8601. */
  readonly receivedAt: string;
  /** What the client said in `MAIL FROM` / `RCPT TO` (lower-cased addresses, `""` for the null sender). */
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  /** The `Message-ID` header, angle brackets included, or `null` when there was none. */
  readonly messageId: string | null;
  /** The address in the `From` header (`""` when missing). */
  readonly from: string;
  /** The addresses in the `To` header(s). */
  readonly to: readonly string[];
  /** The decoded `Subject` (`""` when missing). */
  readonly subject: string;
  readonly text: string | null;
  readonly html: string | null;
  /**
   * Every header by lower-case name. Decoded where mailparser decodes it (subject, addresses, …),
   * otherwise the raw unfolded value; a header that occurs more than once has its values joined by `\n`.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** Name, type and size; the bytes are served by `attachment()` and `GET /messages/:id/attachments/:index`. */
  readonly attachments: readonly ReceivedAttachment[];
}

/** An attachment's bytes with what describes them. */
export interface AttachmentContent extends ReceivedAttachment {
  readonly content: Buffer;
}

export interface WaitForMessagesOptions {
  /** How long to wait before rejecting with `SmtpSinkError` code `WAIT_TIMEOUT`. Default 10 000. */
  readonly timeoutMs?: number | undefined;
  /** Count only messages with this recipient (envelope or `To`, case-insensitive). */
  readonly to?: string | undefined;
}

export interface SmtpSink {
  readonly host: string;
  readonly smtpPort: number;
  readonly httpPort: number;
  /** Base URL of the HTTP view, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The kept messages, oldest first (a snapshot). */
  messages(): readonly ReceivedMessage[];
  /**
   * Resolves with the kept (matching) messages as soon as there are at least `count` of them; rejects
   * with code `WAIT_TIMEOUT` after `timeoutMs`, or `STOPPED` when the sink stops first.
   */
  waitForMessages(count: number, options?: WaitForMessagesOptions): Promise<readonly ReceivedMessage[]>;
  /**
   * The bytes of one attachment of a kept message, by position (0-based) or file name; `undefined`
   * when there is no such message or attachment.
   */
  attachment(messageId: string, indexOrName: number | string): AttachmentContent | undefined;
  /** The raw bytes of a kept message as the client sent them (DATA), or `undefined`. */
  source(messageId: string): Buffer | undefined;
  /** Forgets every kept message. */
  clear(): void;
  /** Transactions the sending limit (`limit`) refused so far. */
  refusedCount(): number;
  /** The current failure mode (for `temporary`, with what is left of `remaining`). */
  failureMode(): FailureMode;
  /** Throws `SmtpSinkError` code `INVALID_FAILURE_MODE` when the mode does not parse. */
  setFailureMode(mode: FailureMode): void;
  /** Closes both servers (open SMTP sessions get 421); pending waits reject. Idempotent. */
  stop(): Promise<void>;
}

export type SmtpSinkErrorCode = "INVALID_OPTIONS" | "INVALID_FAILURE_MODE" | "WAIT_TIMEOUT" | "STOPPED";

export class SmtpSinkError extends Error {
  override readonly name = "SmtpSinkError";
  readonly code: SmtpSinkErrorCode;

  constructor(code: SmtpSinkErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

interface Rejection {
  readonly code: number;
  readonly stage: FailureStage;
  readonly message: string;
}

interface Waiter {
  readonly count: number;
  readonly to: string | undefined;
  readonly resolve: (messages: readonly ReceivedMessage[]) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Starts the SMTP server and the HTTP view; resolves once both listen.
 *
 * ### Examples
 * ```ts
 * const sink = await startSmtpSink();
 * const transport = nodemailer.createTransport({
 *   host: sink.host, port: sink.smtpPort, secure: false, ignoreTLS: true,
 * });
 * await transport.sendMail({ from: "noreply@balansity.test", to: "anna@example.com", subject: "Hi", text: "…" });
 * const [message] = await sink.waitForMessages(1, { timeoutMs: 5_000 });
 * // message.subject === "Hi"; or: await fetch(`${sink.url}/messages?to=anna@example.com`)
 * sink.setFailureMode({ kind: "temporary", code: 451, remaining: 2 }); // next two messages get 451
 * await sink.stop();
 * ```
 */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const host = options.host ?? "127.0.0.1";
  const maxMessages = options.maxMessages ?? DEFAULT_MAX_MESSAGES;
  if (!Number.isInteger(maxMessages) || maxMessages < 1) {
    throw new SmtpSinkError("INVALID_OPTIONS", `maxMessages must be a positive integer, got ${maxMessages}`);
  }
  const auth = options.auth;

  let stored: ReceivedMessage[] = [];
  /** Attachment bytes of the kept messages, by message id (kept out of the JSON view). */
  const contents = new Map<string, readonly Buffer[]>();
  /** The raw message (headers and body as the client sent them) of the kept messages, by id. */
  const sources = new Map<string, Buffer>();
  let nextId = 1;
  let mode: FailureMode = parseFailureMode(options.failWith ?? { kind: "none" });
  const waiters = new Set<Waiter>();
  /** The rejection decided at `MAIL FROM` for the transaction a session is in (undefined: accept). */
  const transactions = new Map<string, Rejection | undefined>();

  function settleWaiters(): void {
    for (const waiter of waiters) {
      const matching = matchingMessages(stored, waiter.to);
      if (matching.length >= waiter.count) {
        waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(matching);
      }
    }
  }

  function store({ message, attachmentContents, source }: ParsedDelivery): void {
    stored.push(message);
    contents.set(message.id, attachmentContents);
    sources.set(message.id, source);
    if (stored.length > maxMessages) {
      for (const dropped of stored.slice(0, stored.length - maxMessages)) {
        contents.delete(dropped.id);
        sources.delete(dropped.id);
      }
      stored = stored.slice(stored.length - maxMessages);
    }
    settleWaiters();
  }

  const limit = options.limit;
  /** When the transactions inside the limit's window started (oldest first). */
  let started: number[] = [];
  let refused = 0;

  /** The provider's limit: past `count` in the window, refuse (and do not count the refused one). */
  function takeLimitRejection(): Rejection | undefined {
    if (limit === undefined) return undefined;
    const now = Date.now();
    const firstInside = started.findIndex((time) => time > now - limit.windowMs);
    started = firstInside === -1 ? [] : started.slice(firstInside);
    if (started.length < limit.count) {
      started.push(now);
      return undefined;
    }
    refused += 1;
    options.onRefused?.(refused);
    const code = limit.code ?? 451;
    return {
      code,
      stage: "rcpt",
      message:
        code >= 500
          ? "5.7.1 Message rate limit exceeded, try again later"
          : "4.7.1 Too many messages, try again later",
    };
  }

  /** One transaction of a mode with `remaining` is used: back to `none` after the last. */
  function countDown(current: Exclude<FailureMode, { kind: "none" }>): void {
    if (current.remaining === undefined) return; // stays as it is until changed
    mode = current.remaining > 1 ? { ...current, remaining: current.remaining - 1 } : { kind: "none" };
  }

  /** Takes the rejection for one new transaction, counting down a `remaining` mode. */
  function takeRejection(): Rejection | undefined {
    const current = mode;
    switch (current.kind) {
      case "none":
        return takeLimitRejection();
      case "permanent":
        countDown(current);
        return {
          code: current.code ?? 550,
          stage: current.stage ?? "rcpt",
          message: current.message ?? "Permanent failure injected by the SMTP sink",
        };
      case "temporary": {
        countDown(current);
        return {
          code: current.code ?? 451,
          stage: current.stage ?? "rcpt",
          message: current.message ?? "Temporary failure injected by the SMTP sink, try again later",
        };
      }
    }
  }

  const smtp = new SMTPServer({
    name: "smtp-sink.localhost",
    banner: "Balansity SMTP sink (local development only)",
    logger: false,
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authOptional: auth === undefined,
    authMethods: ["PLAIN", "LOGIN"],
    size: SMTP_SINK_MAX_MESSAGE_BYTES,
    disableReverseLookup: true,
    onAuth(
      credentials: SMTPServerAuthentication,
      _session: SMTPServerSession,
      callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
    ) {
      if (auth === undefined) {
        callback(null, { user: credentials.username ?? "anonymous" });
      } else if (credentials.username === auth.user && credentials.password === auth.pass) {
        callback(null, { user: auth.user });
      } else {
        callback(smtpError(535, "Authentication credentials invalid"));
      }
    },
    onMailFrom(_address, session, callback) {
      transactions.set(session.id, takeRejection());
      callback();
    },
    onRcptTo(_address, session, callback) {
      const rejection = transactions.get(session.id);
      callback(rejection?.stage === "rcpt" ? smtpError(rejection.code, rejection.message) : null);
    },
    onData(stream, session, callback) {
      const rejection = transactions.get(session.id);
      transactions.delete(session.id);
      if (rejection?.stage === "data") {
        stream.once("end", () => callback(smtpError(rejection.code, rejection.message)));
        stream.resume();
        return;
      }
      receive(stream, session).then(
        (message) => {
          if (message === undefined) {
            callback(
              smtpError(552, `Message exceeds the fixed maximum size of ${SMTP_SINK_MAX_MESSAGE_BYTES}`),
            );
            return;
          }
          store(message);
          callback(null, `Accepted as ${message.message.id}`);
          options.onMessage?.(message.message);
        },
        (error: unknown) => {
          callback(smtpError(451, `Could not parse the message: ${String(error)}`));
        },
      );
    },
    onClose(session) {
      transactions.delete(session.id);
    },
  });
  // Client sockets that reset and similar connection errors are emitted here; a sink keeps running.
  smtp.on("error", () => {});

  async function receive(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
  ): Promise<ParsedDelivery | undefined> {
    // The bytes as received, kept for `source()` (a DKIM signature is checked over them).
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    if (stream.sizeExceeded) return undefined;
    const source = Buffer.concat(chunks);
    const parsed = await simpleParser(source);
    const mailFrom = session.envelope.mailFrom;
    return {
      message: toReceivedMessage(parsed, {
        id: String(nextId++),
        receivedAt: new Date().toISOString(),
        envelope: {
          from: mailFrom === false ? "" : mailFrom.address.toLowerCase(),
          to: session.envelope.rcptTo.map((recipient) => recipient.address.toLowerCase()),
        },
      }),
      attachmentContents: parsed.attachments.map((attachment) => attachment.content),
      source,
    };
  }

  const sink: Omit<SmtpSink, "smtpPort" | "httpPort" | "url" | "stop"> = {
    host,
    messages: () => Object.freeze([...stored]),
    waitForMessages(count, waitOptions = {}) {
      const to = waitOptions.to;
      const timeoutMs = waitOptions.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
      if (count > maxMessages) {
        return Promise.reject(
          new SmtpSinkError(
            "INVALID_OPTIONS",
            `cannot wait for ${count} messages: the sink keeps ${maxMessages}`,
          ),
        );
      }
      const matching = matchingMessages(stored, to);
      if (matching.length >= count) return Promise.resolve(matching);
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          count,
          to,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters.delete(waiter);
            const arrived = matchingMessages(stored, to);
            reject(
              new SmtpSinkError(
                "WAIT_TIMEOUT",
                `waited ${timeoutMs} ms for ${count} message(s)${to === undefined ? "" : ` to ${to}`}, ` +
                  `${arrived.length} arrived: ${JSON.stringify(arrived.map((m) => ({ to: m.to, subject: m.subject })))}`,
              ),
            );
          }, timeoutMs),
        };
        waiters.add(waiter);
      });
    },
    attachment(messageId, indexOrName) {
      const message = stored.find((candidate) => candidate.id === messageId);
      const bytes = contents.get(messageId);
      if (message === undefined || bytes === undefined) return undefined;
      const index =
        typeof indexOrName === "number"
          ? indexOrName
          : message.attachments.findIndex((attachment) => attachment.filename === indexOrName);
      const described = message.attachments[index];
      const content = bytes[index];
      return described === undefined || content === undefined ? undefined : { ...described, content };
    },
    source: (messageId) => sources.get(messageId),
    clear() {
      stored = [];
      contents.clear();
      sources.clear();
    },
    refusedCount: () => refused,
    failureMode: () => mode,
    setFailureMode(next) {
      mode = parseFailureMode(next);
    },
  };

  const http = createServer((request, response) => {
    handleHttp(request, response, sink).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: String(error) });
      else response.destroy();
    });
  });

  try {
    await listenSmtp(smtp, options.smtpPort ?? 0, host);
    await listenHttp(http, options.httpPort ?? 0, host);
  } catch (error) {
    await Promise.all([closeSmtp(smtp), closeHttp(http)]);
    throw error;
  }

  const smtpPort = (smtp.server.address() as AddressInfo).port;
  const httpPort = (http.address() as AddressInfo).port;
  let stopping: Promise<void> | undefined;

  return {
    ...sink,
    smtpPort,
    httpPort,
    url: `http://${urlHost(host)}:${httpPort}`,
    stop() {
      stopping ??= (async () => {
        for (const waiter of waiters) {
          clearTimeout(waiter.timer);
          waiter.reject(new SmtpSinkError("STOPPED", "the SMTP sink stopped before the messages arrived"));
        }
        waiters.clear();
        await Promise.all([closeSmtp(smtp), closeHttp(http)]);
      })();
      return stopping;
    },
  };
}

interface ParsedDelivery {
  readonly message: ReceivedMessage;
  readonly attachmentContents: readonly Buffer[];
  readonly source: Buffer;
}

function parseFailureMode(mode: unknown): FailureMode {
  const result = failureModeSchema.safeParse(mode);
  if (!result.success) {
    throw new SmtpSinkError("INVALID_FAILURE_MODE", `invalid failure mode: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}

function smtpError(responseCode: number, message: string): SMTPServerError {
  return Object.assign(new Error(message), { responseCode });
}

function matchingMessages(messages: readonly ReceivedMessage[], to: string | undefined): ReceivedMessage[] {
  if (to === undefined) return [...messages];
  const wanted = to.trim().toLowerCase();
  return messages.filter(
    (message) =>
      message.envelope.to.includes(wanted) || message.to.some((address) => address.toLowerCase() === wanted),
  );
}

// --- parsing -------------------------------------------------------------------------------------------

function toReceivedMessage(
  parsed: ParsedMail,
  received: Pick<ReceivedMessage, "id" | "receivedAt" | "envelope">,
): ReceivedMessage {
  const toHeaders = parsed.to === undefined ? [] : Array.isArray(parsed.to) ? parsed.to : [parsed.to];
  return Object.freeze({
    ...received,
    messageId: parsed.messageId ?? null,
    from: parsed.from === undefined ? "" : (addresses(parsed.from)[0] ?? ""),
    to: toHeaders.flatMap(addresses),
    subject: parsed.subject ?? "",
    text: parsed.text ?? null,
    html: typeof parsed.html === "string" ? parsed.html : null,
    headers: headerRecord(parsed),
    attachments: parsed.attachments.map((attachment) => ({
      filename: attachment.filename ?? null,
      contentType: attachment.contentType,
      size: attachment.size,
    })),
  });
}

function addresses(header: AddressObject): string[] {
  const flatten = (entries: readonly EmailAddress[]): string[] =>
    entries.flatMap((entry) => [...(entry.address ? [entry.address] : []), ...flatten(entry.group ?? [])]);
  return flatten(header.value);
}

function isAddressObject(value: unknown): value is AddressObject {
  return (
    typeof value === "object" && value !== null && "value" in value && "text" in value && "html" in value
  );
}

function headerRecord(parsed: ParsedMail): Record<string, string> {
  const raw = new Map<string, string[]>();
  for (const { key, line } of parsed.headerLines) {
    const colon = line.indexOf(":");
    const value = line
      .slice(colon + 1)
      .replace(/\r?\n[ \t]+/g, " ")
      .trim();
    raw.set(key, [...(raw.get(key) ?? []), value]);
  }
  const headers: Record<string, string> = {};
  for (const [key, values] of raw) {
    const decoded = parsed.headers.get(key);
    if (typeof decoded === "string") {
      headers[key] = decoded;
    } else if (isAddressObject(decoded)) {
      headers[key] = decoded.text;
    } else if (Array.isArray(decoded) && decoded.every(isAddressObject)) {
      headers[key] = decoded.map((header) => header.text).join("\n");
    } else {
      headers[key] = values.join("\n");
    }
  }
  return headers;
}

// --- HTTP view -----------------------------------------------------------------------------------------

type SinkView = Pick<
  SmtpSink,
  "messages" | "attachment" | "clear" | "failureMode" | "setFailureMode" | "refusedCount"
>;

async function handleHttp(request: IncomingMessage, response: ServerResponse, sink: SinkView): Promise<void> {
  const url = new URL(request.url ?? "/", "http://smtp-sink.localhost");
  const method = request.method ?? "GET";
  const segments = url.pathname.split("/").filter((segment) => segment !== "");
  const [first, second, third, ...rest] = segments;

  if (segments.length === 0) {
    if (method !== "GET") return methodNotAllowed(response, "GET");
    return sendHtml(response, renderIndex(sink.messages()));
  }
  if (first === "healthz" && segments.length === 1) {
    if (method !== "GET") return methodNotAllowed(response, "GET");
    return sendJson(response, 200, {
      status: "ok",
      messages: sink.messages().length,
      refused: sink.refusedCount(),
    });
  }
  if (first === "failure-mode" && segments.length === 1) {
    if (method === "GET") return sendJson(response, 200, sink.failureMode());
    if (method !== "POST") return methodNotAllowed(response, "GET, POST");
    const body = await readJsonBody(request);
    if (!body.ok) return sendJson(response, body.status, { error: body.error });
    const parsed = failureModeSchema.safeParse(body.value);
    if (!parsed.success) {
      return sendJson(response, 400, { error: `invalid failure mode: ${z.prettifyError(parsed.error)}` });
    }
    sink.setFailureMode(parsed.data);
    return sendJson(response, 200, sink.failureMode());
  }
  if (first === "messages" && second === undefined) {
    if (method === "DELETE") {
      sink.clear();
      response.writeHead(204, { "cache-control": "no-store" }).end();
      return;
    }
    if (method !== "GET") return methodNotAllowed(response, "GET, DELETE");
    const to = url.searchParams.get("to");
    return sendJson(response, 200, matchingMessages(sink.messages(), to ?? undefined));
  }
  if (first === "messages" && second !== undefined && third === "attachments" && rest.length === 1) {
    if (method !== "GET") return methodNotAllowed(response, "GET");
    const wanted = decodeSegment(rest[0] ?? "");
    const attachment = sink.attachment(second, /^\d+$/.test(wanted) ? Number(wanted) : wanted);
    if (attachment === undefined) {
      return sendJson(response, 404, { error: `message ${second} has no attachment ${wanted}` });
    }
    const name = attachment.filename ?? `attachment-${wanted}`;
    response.writeHead(200, {
      "content-type": attachment.contentType,
      "content-length": attachment.content.length,
      "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    response.end(attachment.content);
    return;
  }
  if (first === "messages" && second !== undefined && rest.length === 0 && (third ?? "html") === "html") {
    if (method !== "GET") return methodNotAllowed(response, "GET");
    const message = sink.messages().find((candidate) => candidate.id === second);
    if (message === undefined) return sendJson(response, 404, { error: `no message with id ${second}` });
    if (third === undefined) return sendJson(response, 200, message);
    if (message.html === null)
      return sendJson(response, 404, { error: `message ${second} has no HTML body` });
    response.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      // The body is shown as the recipient would see it, minus scripts.
      "content-security-policy":
        "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; font-src * data:",
    });
    response.end(message.html);
    return;
  }
  sendJson(response, 404, { error: `no route for ${method} ${url.pathname}` });
}

type JsonBody = { ok: true; value: unknown } | { ok: false; status: number; error: string };

async function readJsonBody(request: IncomingMessage): Promise<JsonBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_REQUEST_BODY_BYTES) {
      return { ok: false, status: 413, error: `body larger than ${MAX_REQUEST_BODY_BYTES} bytes` };
    }
    chunks.push(buffer);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString("utf8")) };
  } catch {
    return { ok: false, status: 400, error: "body is not valid JSON" };
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
  });
  response.end(JSON.stringify(body));
}

function sendHtml(response: ServerResponse, html: string): void {
  response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  response.end(html);
}

function methodNotAllowed(response: ServerResponse, allow: string): void {
  response.setHeader("allow", allow);
  sendJson(response, 405, { error: `method not allowed, use ${allow}` });
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function renderIndex(messages: readonly ReceivedMessage[]): string {
  const rows = [...messages]
    .reverse()
    .map((message) => {
      const id = encodeURIComponent(message.id);
      const subject = escapeHtml(message.subject === "" ? "(no subject)" : message.subject);
      const links = [
        message.html === null ? "" : `<a href="/messages/${id}/html">html</a>`,
        `<a href="/messages/${id}">json</a>`,
        ...message.attachments.map(
          (attachment, index) =>
            `<a href="/messages/${id}/attachments/${index}">${escapeHtml(attachment.filename ?? `attachment ${index}`)}</a>`,
        ),
      ].join(" ");
      return (
        `<tr><td>${escapeHtml(message.receivedAt)}</td><td>${escapeHtml(message.envelope.to.join(", "))}</td>` +
        `<td>${subject}</td><td>${links}</td></tr>`
      );
    })
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>SMTP sink (${messages.length})</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}</style>
</head>
<body>
<h1>SMTP sink</h1>
<p>${messages.length} message(s), newest first. JSON: <a href="/messages">/messages</a></p>
<table>
<thead><tr><th>received</th><th>to</th><th>subject</th><th></th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}

// --- listening and closing -----------------------------------------------------------------------------

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

function listenSmtp(smtp: SMTPServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    smtp.once("error", onError);
    smtp.listen(port, host, () => {
      smtp.off("error", onError);
      resolve();
    });
  });
}

function listenHttp(http: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    http.once("error", onError);
    http.listen(port, host, () => {
      http.off("error", onError);
      resolve();
    });
  });
}

function closeSmtp(smtp: SMTPServer): Promise<void> {
  if (!smtp.server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    smtp.close(() => resolve());
    // Do not wait for pooled clients to say QUIT: tell them and hang up now.
    for (const connection of smtp.connections) {
      connection.send(421, "SMTP sink shutting down");
      connection.close();
    }
  });
}

function closeHttp(http: Server): Promise<void> {
  if (!http.listening) return Promise.resolve();
  return new Promise((resolve) => {
    http.close(() => resolve());
    http.closeAllConnections();
  });
}
