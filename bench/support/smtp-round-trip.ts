// How long one email takes over one pooled SMTP connection (the worker's own transport,
// apps/worker/src/email/smtp-transport.ts) to a local server that accepts and discards, with the
// socket as nodemailer opens it (Nagle's algorithm on) and with TCP_NODELAY, in a process that does
// nothing else. A measurement aid for bench/RESULTS.md.
//
//   cd bench && node --import tsx support/smtp-round-trip.ts [--count 300]
import { connect, type Socket } from "node:net";
import { parseArgs } from "node:util";
import { createSmtpTransport } from "../../apps/worker/src/email/smtp-transport.ts";
import { renderEmail } from "../../packages/emails/src/index.ts";
import { startDiscardSmtpServer } from "./discard-smtp-server.ts";
import { summarize } from "./latency-stats.ts";
import { sinkSmtpConfig } from "./sink-smtp-config.ts";

const { values } = parseArgs({ options: { count: { type: "string", default: "300" } } });
const count = Number(values.count);

type Transport = ReturnType<typeof createSmtpTransport> & {
  getSocket?: (
    options: { host: string; port: number },
    callback: (error: Error | null, socket?: { connection: Socket }) => void,
  ) => void;
};

const server = await startDiscardSmtpServer();
const email = await renderEmail({
  template: "checkup_completed",
  locale: "ru",
  timezone: "Europe/Moscow",
  variables: {
    assessment_id: "9b2f6c1e-0d4a-4a8e-9a51-3f1c2b7d8e90",
    assessment_title: "Баланс жизни",
    user_name: "Анна",
  },
});

function transport(maxConnections: number, noDelay: boolean): Transport {
  const created: Transport = createSmtpTransport(sinkSmtpConfig(server.port, maxConnections));
  if (noDelay) {
    // nodemailer's documented hook for a socket of one's own (used for proxies): here, one with TCP_NODELAY.
    created.getSocket = (options, callback) => {
      const socket = connect({ host: options.host, port: options.port, noDelay: true });
      socket.once("connect", () => callback(null, { connection: socket }));
      socket.once("error", (error) => callback(error));
    };
  }
  return created;
}

const send = (mailer: Transport, index: number) =>
  mailer.sendMail({
    from: { name: "Balansity", address: "noreply@balansity.test" },
    to: `user-${index}@example.com`,
    subject: email.subject,
    html: email.html,
    text: email.text,
  });

console.log(
  `one rendered checkup_completed email (${email.html.length + email.text.length} characters of html + text), ${count} sends per line\n`,
);
console.log(
  "| socket | connections | in flight | ms per email (p50 / p99) | emails/s |\n| --- | ---: | ---: | ---: | ---: |",
);
for (const noDelay of [false, true]) {
  // One connection, one email at a time: the pure round-trip time of an email.
  const single = transport(1, noDelay);
  await send(single, -1);
  const durations: number[] = [];
  const started = performance.now();
  for (let index = 0; index < count; index += 1) {
    const sent = performance.now();
    await send(single, index);
    durations.push(performance.now() - sent);
  }
  const seconds = (performance.now() - started) / 1000;
  const stats = summarize(durations);
  console.log(
    `| ${noDelay ? "TCP_NODELAY" : "as nodemailer opens it"} | 1 | 1 | ${stats.p50.toFixed(1)} / ${stats.p99.toFixed(1)} | ${(count / seconds).toFixed(0)} |`,
  );
  single.close();

  // The worker's defaults: 5 pooled connections, 32 emails handed over at once.
  const pooled = transport(5, noDelay);
  await Promise.all(Array.from({ length: 5 }, (_, index) => send(pooled, -2 - index)));
  const pooledStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < count) await send(pooled, next++);
    }),
  );
  const pooledSeconds = (performance.now() - pooledStarted) / 1000;
  console.log(
    `| ${noDelay ? "TCP_NODELAY" : "as nodemailer opens it"} | 5 | 32 | – | ${(count / pooledSeconds).toFixed(0)} |`,
  );
  pooled.close();
}
await server.stop();
