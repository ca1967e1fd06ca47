/** One email as the processor hands it over: plain data, since it may cross to another thread. */
export interface OutgoingEmail {
  readonly from: { readonly name: string; readonly address: string };
  readonly to: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly messageId: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly attachments?: readonly { filename: string; contentType: string; content: Uint8Array }[];
}

/** The server's acceptance: the Message-ID sent and its "250 …" reply. */
export interface SentEmail {
  readonly messageId: string;
  readonly response: string;
  /**
   * True when the transport has already written the delivery log's "sent" record for the delivery it
   * was given (the SMTP thread does, right after the server's reply); otherwise the caller records it.
   */
  readonly recorded?: boolean;
}

/** The delivery log row an email belongs to: a transport that can, records its acceptance there. */
export interface DeliveryRef {
  readonly idempotencyKey: string;
  /** Which SMTP account sends it (056's `transport` column). */
  readonly transport: "primary" | "fallback";
}

/**
 * Where the email processor sends: `SmtpThread` (nodemailer on a thread of its own, the default) or
 * `inProcessTransport` (on the calling thread, SMTP_THREAD=off).
 */
export interface MailTransport {
  sendMail(email: OutgoingEmail, delivery?: DeliveryRef): Promise<SentEmail>;
  /** EHLO (and AUTH) against the server: resolves when it would take email. */
  verify(): Promise<void>;
  close(): void | Promise<void>;
}
