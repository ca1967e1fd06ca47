import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { setFlagsFromString } from "node:v8";
import { Worker, type WorkerOptions } from "node:worker_threads";
import type { DatabaseConfig } from "@balansity/db";
import type { SmtpConfig } from "../config/worker-config.ts";
import type { DeliveryRef, MailTransport, OutgoingEmail, SentEmail } from "./mail-transport.ts";

/** A failure as data, with the fields classifySmtpError reads. */
export interface SmtpThreadError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly responseCode?: number;
  readonly response?: string;
  readonly command?: string;
}

export type SmtpThreadRequest =
  | {
      readonly id: number;
      readonly kind: "send";
      readonly email: OutgoingEmail;
      readonly delivery: DeliveryRef | undefined;
    }
  | { readonly id: number; readonly kind: "verify" }
  | { readonly kind: "close" };

/** What the thread starts with. */
export interface SmtpThreadData {
  readonly smtp: SmtpConfig;
  /** Where the thread records acceptances itself (thread-sent-recorder.ts); none: the caller records. */
  readonly database: DatabaseConfig | undefined;
}

export type SmtpThreadReply =
  | { readonly id: number; readonly ok: true; readonly value: SentEmail | undefined }
  | { readonly id: number; readonly ok: false; readonly error: SmtpThreadError };

// The bundle ships the body as dist/smtp-thread-body.mjs beside main.mjs (scripts/build.mjs); from the
// sources it is the .ts file next to this one (startBody).
const fromSources = import.meta.url.endsWith(".ts");
const BODY = new URL(fromSources ? "./smtp-thread-body.ts" : "./smtp-thread-body.mjs", import.meta.url);
const CLOSE_GRACE_MS = 5_000;

/**
 * The thread's young generation, per semi-space (V8's --max-semi-space-size, in MB): a quarter of the
 * main thread's 8. What it allocates per email (the MIME message, the encoded attachment) dies within
 * the email, and at the main thread's size its young generation took ~17 MB of the worker's memory
 * under load (bench/RESULTS.md, email-pipeline 2026-11-29; report-throughput 2026-12-06 for the peaks).
 */
export const SMTP_THREAD_SEMI_SPACE_MB = 2;

/**
 * The SMTP transport on a thread of its own. nodemailer's work per email (building the MIME message,
 * quoted-printable encoding, the SMTP dialogue) is as much CPU as everything else the worker does for
 * an email, and it needs nothing from the main thread but the rendered email: so it runs beside the
 * queue reads, rendering and database writes instead of after them (bench/RESULTS.md, email-pipeline).
 *
 * Given the database, the thread also records each acceptance in the delivery log itself, right after
 * the server's reply (thread-sent-recorder.ts), and says so in the reply (`recorded`): the window in
 * which a crash turns an accepted email into a resend no longer includes the reply's wait for the main
 * thread.
 *
 * The thread starts with the first request. If it dies, every request in flight fails with
 * code ETHREAD (an outage to classifySmtpError: the queue pauses and probes) and the next request
 * starts a new one.
 */
export class SmtpThread implements MailTransport {
  readonly #smtp: SmtpConfig;
  readonly #body: URL;
  readonly #database: DatabaseConfig | undefined;
  readonly #pending = new Map<number, { resolve: (value: never) => void; reject: (error: Error) => void }>();
  #worker: Worker | undefined;
  #nextId = 1;
  #closed = false;

  /**
   * `database`: the thread records acceptances of sends given a delivery there itself. `body` replaces
   * the thread's code (tests: a thread that dies).
   */
  constructor(smtp: SmtpConfig, options: { database?: DatabaseConfig; body?: URL } = {}) {
    this.#smtp = smtp;
    this.#database = options.database;
    this.#body = options.body ?? BODY;
  }

  sendMail(email: OutgoingEmail, delivery?: DeliveryRef): Promise<SentEmail> {
    return this.#request({ kind: "send", email, delivery });
  }

  verify(): Promise<void> {
    return this.#request({ kind: "verify" });
  }

  /** Closes the pooled connections and ends the thread (ended by force after a grace period). */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    if (!worker) return;
    const exited = once(worker, "exit");
    worker.postMessage({ kind: "close" } satisfies SmtpThreadRequest);
    const grace = new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
    if ((await Promise.race([exited.then(() => "exited"), grace])) !== "exited") await worker.terminate();
  }

  #request<T>(
    request: { kind: "send"; email: OutgoingEmail; delivery: DeliveryRef | undefined } | { kind: "verify" },
  ): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("the SMTP thread is closed"));
    const worker = this.#worker ?? this.#start();
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: never) => void, reject });
      // The thread keeps the process alive only while it has work.
      if (this.#pending.size === 1) worker.ref();
      worker.postMessage({ ...request, id } satisfies SmtpThreadRequest);
    });
  }

  #start(): Worker {
    // resourceLimits cannot size the thread: the start command's --max-semi-space-size is a process-wide
    // V8 flag and takes precedence over them. V8 reads the flag when it creates an isolate, so setting it
    // here sizes the threads started from now on (this one, a replacement) and not the main thread,
    // whose heap exists already.
    setFlagsFromString(`--max-semi-space-size=${SMTP_THREAD_SEMI_SPACE_MB}`);
    const workerData: SmtpThreadData = { smtp: this.#smtp, database: this.#database };
    const worker = startBody(this.#body, { workerData });
    worker.unref();
    worker.on("message", (reply: SmtpThreadReply) => this.#settle(reply));
    worker.on("error", (error) => this.#lost(worker, error.message));
    worker.on("exit", (code) => this.#lost(worker, `the SMTP thread exited with code ${code}`));
    this.#worker = worker;
    return worker;
  }

  #settle(reply: SmtpThreadReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker?.unref();
    if (reply.ok) pending.resolve(reply.value as never);
    else pending.reject(Object.assign(new Error(reply.error.message), reply.error));
  }

  #lost(worker: Worker, reason: string): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const { reject } of pending) {
      reject(Object.assign(new Error(`SMTP thread lost: ${reason}`), { code: "ETHREAD" }));
    }
  }
}

/**
 * Starts the body. From the sources (tests, `tsx watch`) it is TypeScript, and on Node 20 tsx's loader
 * applies to the main thread only: the thread loads the body through tsx's `tsImport`.
 */
function startBody(body: URL, options: WorkerOptions): Worker {
  if (!fromSources) return new Worker(body, options);
  const require = createRequire(import.meta.url);
  const manifest = require.resolve("tsx/package.json");
  const api = (JSON.parse(readFileSync(manifest, "utf8")) as TsxManifest).exports["./esm/api"].import.default;
  const load = `import(${JSON.stringify(pathToFileURL(join(dirname(manifest), api)).href)})
    .then(({ tsImport }) => tsImport(${JSON.stringify(body.href)}, ${JSON.stringify(body.href)}))`;
  return new Worker(load, { ...options, eval: true });
}

interface TsxManifest {
  exports: { "./esm/api": { import: { default: string } } };
}
