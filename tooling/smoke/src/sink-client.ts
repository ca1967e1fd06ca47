import { z } from "zod";

/** What the SMTP sink's JSON view says about one message (the fields the smoke reads). */
const messageSchema = z.object({
  id: z.string(),
  receivedAt: z.string(),
  subject: z.string(),
  to: z.array(z.string()),
  text: z.string().nullable(),
  attachments: z.array(
    z.object({ filename: z.string().nullable(), contentType: z.string(), size: z.number() }),
  ),
});
export type SinkMessage = z.output<typeof messageSchema>;

/** The messages the sink keeps for one recipient. */
export async function listMessages(sinkUrl: string, to: string): Promise<SinkMessage[]> {
  const response = await fetch(`${sinkUrl}/messages?to=${encodeURIComponent(to)}`);
  if (!response.ok) throw new Error(`SMTP sink answered ${response.status} to GET /messages`);
  return z.array(messageSchema).parse(await response.json());
}

/** Waits (polling, with a deadline) for a message to `to` that `match` accepts. */
export async function waitForMessage(
  sinkUrl: string,
  options: { to: string; match: (message: SinkMessage) => boolean; timeoutMs: number; what: string },
): Promise<SinkMessage> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const found = (await listMessages(sinkUrl, options.to)).find(options.match);
    if (found) return found;
    if (Date.now() > deadline) {
      throw new Error(`no ${options.what} to ${options.to} in the SMTP sink after ${options.timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The bytes of one attachment (`GET /messages/:id/attachments/:index`). */
export async function fetchAttachment(sinkUrl: string, messageId: string, index: number): Promise<Buffer> {
  const response = await fetch(`${sinkUrl}/messages/${encodeURIComponent(messageId)}/attachments/${index}`);
  if (!response.ok) {
    throw new Error(
      `SMTP sink answered ${response.status} to GET /messages/${messageId}/attachments/${index}`,
    );
  }
  return Buffer.from(await response.arrayBuffer());
}
