// The discard SMTP server (discard-smtp-server.ts) as a process of its own: prints its port on the
// first line of stdout and exits when its stdin closes. Started by smtp-floor.ts.
import { createInterface } from "node:readline";
import { startDiscardSmtpServer } from "./discard-smtp-server.ts";

const server = await startDiscardSmtpServer();
process.stdout.write(`${server.port}\n`);
const lines = createInterface({ input: process.stdin });
lines.on("close", () => {
  void server.stop().then(() => process.exit(0));
});
