import { type AddressInfo, createServer } from "node:net";
import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.ts";
import { PermanentError, RetryableError, TransportUnavailableError } from "../src/consumer/errors.ts";
import { classifySmtpError } from "../src/email/classify-smtp-error.ts";
import type { MailTransport, OutgoingEmail } from "../src/email/mail-transport.ts";
import { SMTP_THREAD_SEMI_SPACE_MB, SmtpThread } from "../src/email/smtp-thread.ts";
import { inProcessTransport } from "../src/email/smtp-transport.ts";

// The SMTP transport on its own thread (and on the main thread, SMTP_THREAD=off), against a real SMTP
// server: what crosses between the threads (the email, attachments as bytes, the server's reply, its
// errors with their codes) and what happens when the thread dies.

let sink: SmtpSink;

const email: OutgoingEmail = {
  from: { name: "Balansity", address: "noreply@balansity.test" },
  to: "thread@example.com",
  subject: "Отчёт готов",
  html: "<p>Здравствуйте</p>",
  text: "Здравствуйте",
  messageId: "<thread-1@balansity.test>",
  headers: { "Content-Language": "ru" },
};

function workerConfig(port: number, databaseUrl: string) {
  return loadConfig({
    DATABASE_URL: databaseUrl,
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String(port),
    SMTP_SECURE: "none",
    SMTP_FROM: "noreply@balansity.test",
  });
}

function smtpConfig(port = sink.smtpPort) {
  return workerConfig(port, "postgres://postgres@127.0.0.1:5432/postgres").smtp;
}

const transports: [string, (port?: number) => MailTransport][] = [
  ["SmtpThread", (port) => new SmtpThread(smtpConfig(port))],
  ["inProcessTransport (SMTP_THREAD=off)", (port) => inProcessTransport(smtpConfig(port))],
];

beforeAll(async () => {
  sink = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
});

afterAll(async () => {
  await sink?.stop();
});

beforeEach(() => {
  sink.clear();
  sink.setFailureMode({ kind: "none" });
});

describe.each(transports)("%s", (_name, open) => {
  it("sends an email with its headers and attachment bytes intact and returns the server's reply", async () => {
    const thread = open();
    try {
      const pdf = Buffer.from("%PDF-1.4 report bytes \u0000\u00ff", "latin1");
      const info = await thread.sendMail({
        ...email,
        attachments: [{ filename: "report.pdf", contentType: "application/pdf", content: pdf }],
      });
      expect(info.messageId).toBe(email.messageId);
      expect(info.response).toMatch(/^250 /);
      const [received] = await sink.waitForMessages(1);
      expect(received).toMatchObject({
        messageId: email.messageId,
        subject: email.subject,
        text: "Здравствуйте",
      });
      expect(received?.headers["content-language"]).toBe("ru");
      expect(sink.attachment(received!.id, "report.pdf")?.content.equals(pdf)).toBe(true);
    } finally {
      await thread.close();
    }
  });

  it("hands back the server's refusal with its reply code, so it is classified as on the main thread", async () => {
    const thread = open();
    try {
      sink.setFailureMode({ kind: "permanent", code: 550 });
      const permanent = await thread.sendMail(email).catch((error: unknown) => error);
      expect(permanent).toMatchObject({ code: "EENVELOPE", responseCode: 550 });
      expect(classifySmtpError(permanent)).toBeInstanceOf(PermanentError);

      sink.setFailureMode({ kind: "temporary", code: 451, stage: "data" });
      const temporary = await thread.sendMail(email).catch((error: unknown) => error);
      expect(temporary).toMatchObject({ code: "EMESSAGE", responseCode: 451 });
      expect(classifySmtpError(temporary)).toBeInstanceOf(RetryableError);
    } finally {
      await thread.close();
    }
  });

  it("reports a server that is not there as an outage, from verify and from a send", async () => {
    const closed = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
    const port = closed.smtpPort;
    await closed.stop();
    const thread = open(port);
    try {
      await expect(thread.verify()).rejects.toMatchObject({ code: "ESOCKET" });
      const error = await thread.sendMail(email).catch((caught: unknown) => caught);
      expect(classifySmtpError(error)).toBeInstanceOf(TransportUnavailableError);
    } finally {
      await thread.close();
    }
  });
});

describe("SmtpThread", () => {
  it("fails what is in flight when the thread dies, as an outage, and starts a new thread for the next request", async () => {
    const thread = new SmtpThread(smtpConfig(), {
      body: new URL("./fixtures/smtp-thread-dies-on-send.ts", import.meta.url),
    });
    try {
      await thread.verify();
      const [died, alongside] = await Promise.all([
        thread.sendMail({ ...email, subject: "die" }).catch((error: unknown) => error),
        thread
          .sendMail({ ...email, messageId: "<thread-2@balansity.test>" })
          .catch((error: unknown) => error),
      ]);
      for (const error of [died, alongside]) {
        expect(error).toMatchObject({ code: "ETHREAD", message: expect.stringContaining("code 3") });
        expect(classifySmtpError(error)).toBeInstanceOf(TransportUnavailableError);
      }
      // The queue's probe, then the retried email, go through a new thread.
      await thread.verify();
      await expect(thread.sendMail(email)).resolves.toMatchObject({ messageId: email.messageId });
    } finally {
      await thread.close();
    }
  });

  it("gives the thread a young generation of its own size, smaller than V8's default (each semi-space 2 MB)", async () => {
    const thread = new SmtpThread(smtpConfig(), {
      body: new URL("./fixtures/smtp-thread-reports-young-generation.ts", import.meta.url),
    });
    try {
      // The fixture answers with its new space grown to its bound: two semi-spaces.
      const newSpaceBytes = (await thread.verify()) as unknown as number;
      expect(newSpaceBytes).toBeGreaterThan(0);
      expect(newSpaceBytes).toBeLessThanOrEqual(2 * SMTP_THREAD_SEMI_SPACE_MB * 1024 * 1024);
    } finally {
      await thread.close();
    }
  });

  it("refuses requests once closed", async () => {
    const thread = new SmtpThread(smtpConfig());
    await thread.verify();
    await thread.close();
    await expect(thread.sendMail(email)).rejects.toThrow("the SMTP thread is closed");
  });
});

describe("SmtpThread given the delivery log", () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  async function claimed(key: string) {
    await pool.query(
      `insert into automation.email_deliveries (idempotency_key, msg_id, template, recipient, status, lease_until, attempts)
       values ($1, 1, 'checkup_completed', 'thread@example.com', 'sending', now() + interval '1 minute', 1)`,
      [key],
    );
  }
  async function rowOf(key: string) {
    const { rows } = await pool.query<{
      status: string;
      smtp_message_id: string | null;
      smtp_response: string | null;
      transport: string | null;
    }>(
      "select status, smtp_message_id, smtp_response, transport from automation.email_deliveries where idempotency_key = $1",
      [key],
    );
    return rows[0];
  }

  it("records the acceptance itself, before its reply leaves the thread, and says so", async () => {
    const thread = new SmtpThread(smtpConfig(), { database: workerConfig(sink.smtpPort, db.url).database });
    try {
      await claimed("thread-record-1");
      await claimed("thread-record-2");
      const [first, second] = await Promise.all([
        thread.sendMail(email, { idempotencyKey: "thread-record-1", transport: "primary" }),
        thread.sendMail(
          { ...email, messageId: "<thread-record-2@balansity.test>" },
          { idempotencyKey: "thread-record-2", transport: "fallback" },
        ),
      ]);
      expect(first).toMatchObject({ messageId: email.messageId, recorded: true });
      expect(second).toMatchObject({ messageId: "<thread-record-2@balansity.test>", recorded: true });
      // Nobody on this side wrote the rows: the thread did, by the time its replies arrived.
      expect(await rowOf("thread-record-1")).toEqual({
        status: "sent",
        smtp_message_id: email.messageId,
        smtp_response: first.response,
        transport: "primary",
      });
      // The thread records which account it sends for (056's column), as the main thread would.
      expect(await rowOf("thread-record-2")).toMatchObject({ status: "sent", transport: "fallback" });
      // A send without a delivery (the console's test email, say) records nothing.
      const plain = await thread.sendMail({ ...email, messageId: "<thread-plain@balansity.test>" });
      expect(plain.recorded).toBeUndefined();
      expect(await sink.waitForMessages(3)).toHaveLength(3);
    } finally {
      await thread.close();
    }
  });

  it("still sends when the database is away, and leaves the record to the caller (recorded: false)", async () => {
    const away = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const database = workerConfig(sink.smtpPort, `postgres://postgres@127.0.0.1:${away}/nowhere`).database;
    const thread = new SmtpThread(smtpConfig(), { database });
    try {
      const info = await thread.sendMail(email, {
        idempotencyKey: "thread-record-away",
        transport: "primary",
      });
      expect(info).toMatchObject({ messageId: email.messageId, recorded: false });
      const [received] = await sink.waitForMessages(1);
      expect(received?.messageId).toBe(email.messageId);
    } finally {
      await thread.close();
    }
  });
});
