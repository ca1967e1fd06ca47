import { describe, expect, it } from "vitest";
import {
  PermanentError,
  RetryableError,
  ThrottledError,
  TransportUnavailableError,
} from "../src/consumer/errors.ts";
import { classifySmtpError } from "../src/email/classify-smtp-error.ts";

// What nodemailer rejects with when the server answers RCPT TO or DATA: the reply code, the server's
// line, and its own wrapper text around it.
function rejected(responseCode: number, line: string) {
  return Object.assign(new Error(`Can't send mail - all recipients were rejected: ${responseCode} ${line}`), {
    code: "EENVELOPE",
    responseCode,
    response: `${responseCode} ${line}`,
  });
}

describe("classifySmtpError", () => {
  it.each([
    [421, "4.7.0 Too many connections, closing transmission channel"],
    [450, "4.2.1 Mailbox temporarily unavailable, try again later"],
    [451, "4.7.1 Too many messages, try again later"],
    [452, "4.5.3 Too many recipients"],
    [550, "5.7.1 Message rate limit exceeded"],
    [554, "5.7.0 Too many messages from this user, sending limit reached"],
    [550, "Daily sending limit exceeded"],
  ])("treats %i %s as throttling: a pause, not a failure of the message", (code, line) => {
    const classified = classifySmtpError(rejected(code, line));
    expect(classified).toBeInstanceOf(ThrottledError);
    expect(classified.code).toBe("smtp_throttled");
    expect((classified as ThrottledError).transport).toBe("smtp");
  });

  it.each([
    [550, "5.1.1 <nobody@example.com>: Recipient address rejected: User unknown"],
    [552, "5.2.2 Mailbox full, quota limit exceeded"],
    [552, "5.3.4 Message size exceeds fixed limit"],
    [550, "Permanent failure injected by the SMTP sink"],
  ])("keeps %i %s permanent: the recipient or the message will never do", (code, line) => {
    const classified = classifySmtpError(rejected(code, line));
    expect(classified).toBeInstanceOf(PermanentError);
    expect(classified.code).toBe("smtp_rejected");
  });

  it("retries another 4xx as a failure of the message", () => {
    const classified = classifySmtpError(rejected(454, "4.7.0 TLS not available due to local problem"));
    expect(classified).toBeInstanceOf(RetryableError);
    expect(classified).not.toBeInstanceOf(TransportUnavailableError);
  });

  it("pauses and probes for a server that is away or refuses our credentials", () => {
    const away = classifySmtpError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNECTION" }));
    expect(away).toBeInstanceOf(TransportUnavailableError);
    expect(away).not.toBeInstanceOf(ThrottledError);
    const auth = classifySmtpError(
      Object.assign(new Error("Invalid login"), { code: "EAUTH", responseCode: 535 }),
    );
    expect(auth.code).toBe("smtp_auth_failed");
  });
});
