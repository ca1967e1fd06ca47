// Runs inside the SMTP thread (smtp-thread.ts starts it): one pooled nodemailer transport, fed by the
// main thread's messages, and (given the database) the recorder of each acceptance in the delivery log.
// Nothing here logs; every outcome goes back as a reply.
import { parentPort, workerData } from "node:worker_threads";
import type { SentEmail } from "./mail-transport.ts";
import type { SmtpThreadData, SmtpThreadError, SmtpThreadReply, SmtpThreadRequest } from "./smtp-thread.ts";
import { inProcessTransport } from "./smtp-transport.ts";
import { ThreadSentRecorder } from "./thread-sent-recorder.ts";

const port = parentPort;
if (!port) throw new Error("smtp-thread-body.ts runs as a worker thread (see smtp-thread.ts)");

const { smtp, database } = workerData as SmtpThreadData;
const transport = inProcessTransport(smtp);
const recorder = database ? new ThreadSentRecorder(database) : undefined;

/** Sends; then, for a delivery, records the acceptance before the reply leaves the thread. */
async function send(request: Extract<SmtpThreadRequest, { kind: "send" }>): Promise<SentEmail> {
  const sent = await transport.sendMail(request.email);
  if (!recorder || !request.delivery) return sent;
  const recorded = await recorder.record({ ...request.delivery, ...sent });
  return { ...sent, recorded };
}

port.on("message", (request: SmtpThreadRequest) => {
  if (request.kind === "close") {
    void transport.close();
    void recorder?.close();
    port.close();
    return;
  }
  const work: Promise<SentEmail | undefined> =
    request.kind === "send" ? send(request) : transport.verify().then(() => undefined);
  work.then(
    (value) => port.postMessage({ id: request.id, ok: true, value } satisfies SmtpThreadReply),
    (error: unknown) =>
      port.postMessage({ id: request.id, ok: false, error: plain(error) } satisfies SmtpThreadReply),
  );
});

/** What classifySmtpError reads, as data: an Error's own fields do not survive postMessage. */
function plain(error: unknown): SmtpThreadError {
  const details = (error ?? {}) as Partial<SmtpThreadError>;
  return {
    name: details.name ?? "Error",
    message: details.message ?? String(error),
    ...(details.code !== undefined ? { code: details.code } : {}),
    ...(details.responseCode !== undefined ? { responseCode: details.responseCode } : {}),
    ...(details.response !== undefined ? { response: details.response } : {}),
    ...(details.command !== undefined ? { command: details.command } : {}),
  };
}
