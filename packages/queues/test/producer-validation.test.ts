import { describe, expect, it } from "vitest";
import {
  InvalidMessageError,
  type QueueRpcArgs,
  QueueRpcError,
  type QueueRpcName,
  type QueueTransport,
  queueEmailTask,
  queuePaymentProcessing,
  queueReportGeneration,
  requestAssessmentReport,
  trackEvent,
} from "../src/index.ts";

// Producers check their input with the catalog schemas before any network call: a bad message
// never reaches the database, and the error names every bad field.

function recordingTransport(result: unknown = 41) {
  const calls: { name: QueueRpcName; args: Record<string, unknown> }[] = [];
  const transport: QueueTransport = {
    async call<N extends QueueRpcName>(name: N, args: QueueRpcArgs<N>) {
      calls.push({ name, args: { ...args } });
      return result;
    },
  };
  return { transport, calls };
}

const assessmentId = "6f1c3d2e-8a4b-4c5d-9e6f-7a8b9c0d1e2f";
const userId = "0b6a4f0e-1d2c-4b3a-8e9f-a1b2c3d4e5f6";
const reportVariables = { assessment_id: assessmentId, report_url: "https://app.balansity.ru/reports/1" };

async function invalid(promise: Promise<unknown>): Promise<InvalidMessageError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(InvalidMessageError);
  return error as InvalidMessageError;
}

describe("queueEmailTask", () => {
  it('refuses a bad address, naming "to", and calls nothing', async () => {
    const { transport, calls } = recordingTransport();
    const error = await invalid(
      queueEmailTask(transport, {
        to: "not-an-address",
        template: "report_ready",
        variables: reportVariables,
      }),
    );
    expect(error.code).toBe("invalid_message");
    expect(error.issues).toEqual(['email_queue message: "to" must be an email address']);
    expect(error.fields).toEqual([{ path: "to", message: "must be an email address" }]);
    expect(error.message).toContain("nothing was enqueued");
    expect(calls).toEqual([]);
  });

  it("lists every bad field at once", async () => {
    const { transport, calls } = recordingTransport();
    const error = await invalid(
      queueEmailTask(transport, {
        to: "anna@",
        template: "newsletter" as "report_ready",
        variables: reportVariables,
        priority: 2 as 1,
        locale: "de" as "ru",
      }),
    );
    expect(error.fields.map((field) => field.path)).toEqual(["to", "template", "locale", "priority"]);
    expect(error.issues).toContain('email_queue message: "priority" must be 0 (normal) or 1 (high)');
    expect(error.issues.find((issue) => issue.includes('"template"'))).toMatch(
      /must be one of checkup_completed, /,
    );
    expect(calls).toEqual([]);
  });

  it("checks the variables against the template's schema", async () => {
    const { transport, calls } = recordingTransport();
    const error = await invalid(
      queueEmailTask(transport, {
        to: "anna@example.com",
        template: "report_ready",
        variables: { assessment_id: assessmentId, report_url: "javascript:alert(1)" },
      }),
    );
    expect(error.issues).toEqual([
      'email_queue message: "variables.report_url" must be an absolute http(s) URL',
    ]);
    expect(calls).toEqual([]);
  });

  it("names a missing required variable", async () => {
    const { transport } = recordingTransport();
    const error = await invalid(
      queueEmailTask(transport, {
        to: "anna@example.com",
        template: "report_ready",
        variables: { assessment_id: assessmentId } as typeof reportVariables,
      }),
    );
    expect(error.fields).toEqual([
      { path: "variables.report_url", message: "must be an absolute http(s) URL" },
    ]);
  });

  it("refuses a variable the template does not declare (a typo would be a silent blank)", async () => {
    const { transport, calls } = recordingTransport();
    const error = await invalid(
      queueEmailTask(transport, {
        to: "anna@example.com",
        template: "report_ready",
        variables: { ...reportVariables, reportUrl: "https://x.example" } as typeof reportVariables,
      }),
    );
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatch(
      /^email_queue message: "variables.reportUrl" is not a variable of template report_ready/,
    );
    expect(calls).toEqual([]);
  });

  it("refuses a field the message does not have", async () => {
    const { transport, calls } = recordingTransport();
    const input = {
      to: "anna@example.com",
      template: "report_ready",
      variables: reportVariables,
      cc: "boss@example.com",
    };
    const error = await invalid(queueEmailTask(transport, input as Parameters<typeof queueEmailTask>[1]));
    expect(error.issues).toEqual(['email_queue message: "cc" is not a known field']);
    expect(calls).toEqual([]);
  });

  it("sends only the arguments given (the database fills the rest) and returns the msg_id", async () => {
    const { transport, calls } = recordingTransport("41");
    const result = await queueEmailTask(transport, {
      to: "anna@example.com",
      template: "report_ready",
      variables: reportVariables,
      priority: 1,
    });
    expect(result).toEqual({ msgId: 41 });
    expect(calls).toEqual([
      {
        name: "queue_email_task",
        args: {
          to: "anna@example.com",
          subject: null,
          template: "report_ready",
          variables: reportVariables,
          priority: 1,
        },
      },
    ]);
  });

  it("refuses a transport answer that is not a msg_id", async () => {
    const { transport } = recordingTransport(null);
    await expect(
      queueEmailTask(transport, {
        to: "anna@example.com",
        template: "report_ready",
        variables: reportVariables,
      }),
    ).rejects.toThrow(QueueRpcError);
  });
});

describe("the other producers", () => {
  it('queueReportGeneration names a bad "assessment_id" and calls nothing', async () => {
    const { transport, calls } = recordingTransport();
    const error = await invalid(queueReportGeneration(transport, { assessment_id: "42", user_id: userId }));
    expect(error.issues).toEqual(['report_generation_queue message: "assessment_id" must be a UUID']);
    expect(calls).toEqual([]);
  });

  it("queueReportGeneration leaves report_type and requested_by to the database defaults", async () => {
    const { transport, calls } = recordingTransport(5);
    await queueReportGeneration(transport, { assessment_id: assessmentId, user_id: userId });
    expect(calls).toEqual([
      { name: "queue_report_generation", args: { assessment_id: assessmentId, user_id: userId } },
    ]);
  });

  it("queuePaymentProcessing names an unknown action", async () => {
    const { transport, calls } = recordingTransport();
    const error = await invalid(
      queuePaymentProcessing(transport, { payment_id: userId, action: "capture" as "completed" }),
    );
    expect(error.issues).toEqual([
      'payment_processing_queue message: "action" must be one of verify, completed, failed, refund',
    ]);
    expect(calls).toEqual([]);
  });

  it("trackEvent names an unknown event and a missing one", async () => {
    const { transport, calls } = recordingTransport();
    const unknown = await invalid(trackEvent(transport, { event: "clicked" as "email_sent" }));
    expect(unknown.issues[0]).toMatch(/^analytics_queue message: "event" must be one of checkup_completed, /);
    const missing = await invalid(trackEvent(transport, {} as Parameters<typeof trackEvent>[1]));
    expect(missing.fields.map((field) => field.path)).toEqual(["event"]);
    expect(calls).toEqual([]);
  });

  it("trackEvent sends a Date as an ISO timestamp", async () => {
    const { transport, calls } = recordingTransport(9);
    await trackEvent(transport, { event: "report_generated", occurred_at: new Date("2026-11-25T09:00:00Z") });
    expect(calls[0]?.args).toEqual({ event: "report_generated", occurred_at: "2026-11-25T09:00:00.000Z" });
  });

  it("requestAssessmentReport refuses an id that is not a UUID before any call", async () => {
    const { transport, calls } = recordingTransport();
    const error = await invalid(requestAssessmentReport(transport, "../../etc/passwd"));
    expect(error.issues).toEqual(['request_assessment_report: "assessment_id" must be a UUID']);
    expect(calls).toEqual([]);
  });
});

describe("QueueRpcError", () => {
  it.each([
    ["42501", undefined, "permission_denied"],
    ["P0002", 500, "not_found"],
    ["22023", 400, "invalid_argument"],
    ["PGRST202", 404, "missing_function"],
    ["08006", undefined, "unavailable"],
    [undefined, 0, "unavailable"],
    ["XX000", 500, "failed"],
  ] as const)("classifies SQLSTATE %s (HTTP %s) as %s", (sqlState, status, reason) => {
    const error = new QueueRpcError({ rpc: "queue_email_task", message: "no", sqlState, status });
    expect(error.reason).toBe(reason);
    expect(error.code).toBe("queue_rpc_failed");
  });

  it("tells a browser caller that queue_email_task is for servers", () => {
    const error = new QueueRpcError({
      rpc: "queue_email_task",
      message: "permission denied for function queue_email_task",
      sqlState: "42501",
    });
    expect(error.message).toMatch(/service_role only/);
    expect(error.message).toMatch(/the browser may call only request_assessment_report/);
  });
});
