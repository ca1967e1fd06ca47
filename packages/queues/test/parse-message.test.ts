import { describe, expect, it } from "vitest";
import { parseMessage } from "../src/consumer/index.ts";
import { emailMessage } from "./support/queue-database.ts";

describe("parseMessage", () => {
  it("returns the typed message for a valid one", () => {
    const parsed = parseMessage("email_queue", emailMessage({ priority: 1 }));
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      // Typed by the catalog: QueueMessage<"email_queue">.
      expect(parsed.message.priority).toBe(1);
      expect(parsed.message.template).toBe("report_ready");
    }
  });

  it("names every bad field of an invalid one instead of throwing", () => {
    const parsed = parseMessage("email_queue", emailMessage({ to: "nobody", version: 2, priority: 5 }));
    expect(parsed).toEqual({
      ok: false,
      queue: "email_queue",
      issues: [
        'email_queue message: "version" must be 1',
        'email_queue message: "to" must be an email address',
        'email_queue message: "priority" must be 0 (normal) or 1 (high)',
      ],
      fields: [
        { path: "version", message: "must be 1" },
        { path: "to", message: "must be an email address" },
        { path: "priority", message: "must be 0 (normal) or 1 (high)" },
      ],
    });
  });

  it("checks an email's variables against its template", () => {
    const parsed = parseMessage("email_queue", emailMessage({ variables: { assessment_id: "a1" } }));
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.issues).toEqual([
      'email_queue message: "variables.report_url" must be an absolute http(s) URL',
    ]);
  });

  it("accepts null optional variables and variables the template does not use (as SQL builds them)", () => {
    const parsed = parseMessage(
      "email_queue",
      emailMessage({
        variables: {
          assessment_id: "a1",
          report_url: "https://app.balansity.ru/r/1",
          assessment_title: null,
          extra_from_trigger: 1,
        },
      }),
    );
    expect(parsed.ok).toBe(true);
  });

  it("names the whole message when it is not an object", () => {
    const parsed = parseMessage("analytics_queue", "hello");
    expect(!parsed.ok && parsed.issues).toEqual(["analytics_queue message: must be an object"]);
  });

  it("parses dead letters with deadLetterSchema", () => {
    const parsed = parseMessage("payment_processing_queue_dlq", { queue: "payment_processing_queue" });
    expect(!parsed.ok && parsed.fields.map((field) => field.path)).toEqual([
      "original_msg_id",
      "message",
      "error",
      "attempts",
      "enqueued_at",
      "failed_at",
    ]);
  });

  it("throws for a queue that is not in the catalog", () => {
    expect(() => parseMessage("emails" as "email_queue", {})).toThrow(TypeError);
  });
});
