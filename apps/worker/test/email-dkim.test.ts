import { generateKeyPairSync } from "node:crypto";
import { type SmtpSink, startSmtpSink } from "@balansity/devstack";
import { createTestDatabase, type TestDatabase } from "@balansity/devstack/testing";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../src/worker.ts";
import { emailMessage, sendRaw } from "./support/domain.ts";
import { startTestWorker } from "./support/test-worker.ts";

// A received email's DKIM signature verifies against the public key a DNS TXT record would publish
// (mailauth, with a resolver answering for the selector), and the message is ours end to end: the
// Message-ID and the envelope sender on the From domain.

const DOMAIN = "balansity.test";
const SELECTOR = "test2026";

let db: TestDatabase;
let pool: pg.Pool;
let sink: SmtpSink;
let worker: RunningWorker;
// Generated for this run: no key is kept anywhere.
const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const publicKey = keys.publicKey.export({ type: "spki", format: "der" }).toString("base64");

/** What DNS would answer for `<selector>._domainkey.<domain>` TXT. */
async function resolver(name: string, type: string): Promise<string[][]> {
  if (type === "TXT" && name === `${SELECTOR}._domainkey.${DOMAIN}`)
    return [[`v=DKIM1; k=rsa; p=${publicKey}`]];
  throw Object.assign(new Error(`no ${type} record for ${name}`), { code: "ENOTFOUND" });
}

beforeAll(async () => {
  db = await createTestDatabase("migrated");
  pool = new pg.Pool({ connectionString: db.url });
  sink = await startSmtpSink();
  worker = await startTestWorker({
    databaseUrl: db.url,
    smtpPort: sink.smtpPort,
    env: {
      SMTP_DKIM_SELECTOR: SELECTOR,
      SMTP_DKIM_PRIVATE_KEY: keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    },
  });
});

afterAll(async () => {
  await worker?.stop();
  await sink?.stop();
  await pool?.end();
  await db?.drop();
});

describe("DKIM and the sender's domain", () => {
  it("signs each email so that its signature verifies against the published key", async () => {
    await sendRaw(pool, "email_queue", emailMessage("dkim@example.com", "dkim:1", { subject: "DKIM" }));
    const [received] = await sink.waitForMessages(1, { timeoutMs: 20_000 });
    const source = sink.source(received?.id ?? "");
    expect(source).toBeDefined();

    const verified = await dkimVerify(source as Buffer, { resolver });
    expect(verified.results).toHaveLength(1);
    expect(verified.results[0]?.signingDomain).toBe(DOMAIN);
    expect(verified.results[0]?.status.result).toBe("pass");

    // The same bytes with one changed character in the body no longer verify.
    const text = (source as Buffer).toString("utf8");
    const tampered = Buffer.from(text.replace(/Баланс|=D0=91/, "X"));
    expect(tampered.equals(source as Buffer)).toBe(false);
    const broken = await dkimVerify(tampered, { resolver });
    expect(broken.results[0]?.status.result).not.toBe("pass");

    expect(received?.envelope.from).toBe(`noreply@${DOMAIN}`);
    expect(received?.from).toBe(`noreply@${DOMAIN}`);
    expect(received?.messageId).toMatch(new RegExp(`^<[0-9a-f]{32}@${DOMAIN.replace(".", "\\.")}>$`));
  });
});
