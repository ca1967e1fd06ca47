// The floor under the email pipeline: the worker's own pooled nodemailer transport
// (apps/worker/src/email/smtp-transport.ts) sending one pre-rendered email N times, as fast as the pool
// takes them, to the discard SMTP server running in another process. No database, no rendering, no
// queue: what SMTP alone costs on this machine with the same number of connections.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createSmtpTransport } from "../../apps/worker/src/email/smtp-transport.ts";
import { renderEmail } from "../../packages/emails/src/index.ts";
import { cpuSeconds } from "./proc-stats.ts";
import { sinkSmtpConfig } from "./sink-smtp-config.ts";

const SERVER = fileURLToPath(new URL("./discard-smtp-process.ts", import.meta.url));

export interface FloorResult {
  readonly emails: number;
  readonly seconds: number;
  readonly emailsPerSecond: number;
  /** CPU seconds of this process (nodemailer) and of the SMTP server's process during the run. */
  readonly senderCpuSeconds: number;
  readonly serverCpuSeconds: number;
}

/**
 * Sends `emails` copies of checkup_completed (ru) through `maxConnections` pooled connections, at most
 * `inFlight` waiting at once, and resolves with the rate once the server has accepted every one.
 */
export async function measureSmtpFloor(options: {
  readonly emails: number;
  readonly maxConnections: number;
  readonly inFlight: number;
}): Promise<FloorResult> {
  const rendered = await renderEmail({
    template: "checkup_completed",
    locale: "ru",
    timezone: "Europe/Moscow",
    variables: {
      assessment_id: "9b2f6c1e-0d4a-4a8e-9a51-3f1c2b7d8e90",
      assessment_title: "Баланс жизни",
      user_name: "Анна",
    },
  });
  const server = spawn(process.execPath, ["--import", "tsx", SERVER], { stdio: ["pipe", "pipe", "inherit"] });
  try {
    const port = Number(await nextLine(server));
    const transport = createSmtpTransport(sinkSmtpConfig(port, options.maxConnections));
    const send = (index: number) =>
      transport.sendMail({
        from: { name: "Balansity", address: "noreply@balansity.test" },
        to: `floor-${index}@example.com`,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        headers: { "Content-Language": "ru" },
      });
    // Warm up: every pooled connection open before the clock starts.
    await Promise.all(Array.from({ length: options.maxConnections * 2 }, (_, index) => send(-index - 1)));
    const serverCpu = cpuSeconds(server.pid ?? -1);
    const senderCpu = process.cpuUsage();
    const started = performance.now();
    let next = 0;
    const lane = async () => {
      while (next < options.emails) {
        next += 1;
        await send(next);
      }
    };
    await Promise.all(Array.from({ length: options.inFlight }, lane));
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(senderCpu);
    const result = {
      emails: options.emails,
      seconds,
      emailsPerSecond: options.emails / seconds,
      senderCpuSeconds: (used.user + used.system) / 1e6,
      serverCpuSeconds: cpuSeconds(server.pid ?? -1) - serverCpu,
    };
    transport.close();
    return result;
  } finally {
    server.stdin?.end();
    await new Promise((resolve) => {
      if (server.exitCode !== null) resolve(undefined);
      else server.once("exit", resolve);
    });
  }
}

/** The next line the child writes to stdout. */
function nextLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const end = buffered.indexOf("\n");
      if (end >= 0) {
        child.stdout?.off("data", onData);
        resolve(buffered.slice(0, end).trim());
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`the SMTP server exited with ${code} before it listened`)));
  });
}
