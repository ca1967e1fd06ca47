import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ReportNotFoundError, ReportStorageError, SupabaseReportStore } from "../src/index.ts";
import { FakeSupabaseStorage } from "./support/fake-supabase-storage.ts";

const serviceKey = randomBytes(16).toString("hex");
let storage: FakeSupabaseStorage;
const now = new Date("2026-11-25T10:00:00Z");
const pdf = (text: string) => new TextEncoder().encode(`%PDF-1.7 ${text}`);

beforeAll(async () => {
  storage = await FakeSupabaseStorage.start(serviceKey);
});
afterAll(() => storage?.close());
beforeEach(() => {
  storage.objects.clear();
  storage.requests.length = 0;
});

function store(key = serviceKey) {
  return new SupabaseReportStore({ url: storage.url, serviceRoleKey: key, now: () => now });
}

describe("SupabaseReportStore", () => {
  it("uploads into the reports bucket with upsert, the content type and the service key", async () => {
    await store().put("u1/a1/r1.pdf", pdf("one"), "application/pdf");

    expect([...storage.objects.keys()]).toEqual(["reports/u1/a1/r1.pdf"]);
    expect(storage.objects.get("reports/u1/a1/r1.pdf")?.contentType).toBe("application/pdf");
    const [upload] = storage.requests;
    expect(upload).toMatchObject({ method: "POST", path: "/storage/v1/object/reports/u1/a1/r1.pdf" });
    expect(upload?.headers["x-upsert"]).toBe("true");
  });

  it("replaces the object when the same path is stored again (a retried job)", async () => {
    await store().put("u1/a1/r1.pdf", pdf("first"), "application/pdf");
    await store().put("u1/a1/r1.pdf", pdf("second"), "application/pdf");

    expect(storage.objects.size).toBe(1);
    expect(storage.objects.get("reports/u1/a1/r1.pdf")?.body.toString()).toBe("%PDF-1.7 second");
  });

  it("signs a link that downloads the report and states when it expires", async () => {
    await store().put("u1/a1/r1.pdf", pdf("signed"), "application/pdf");

    const signed = await store().signedUrl("u1/a1/r1.pdf", 3600);

    expect(signed.url).toMatch(
      new RegExp(`^${storage.url}/storage/v1/object/sign/reports/u1/a1/r1\\.pdf\\?token=[0-9a-f]+$`),
    );
    expect(signed.expiresAt.toISOString()).toBe("2026-11-25T11:00:00.000Z");
    const response = await fetch(signed.url);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).toString()).toBe("%PDF-1.7 signed");
  });

  it("downloads the stored bytes", async () => {
    await store().put("u1/a1/r1.pdf", pdf("bytes"), "application/pdf");
    expect(Buffer.from(await store().get("u1/a1/r1.pdf")).toString()).toBe("%PDF-1.7 bytes");
  });

  it("reports a missing object as ReportNotFoundError, on download and on sign", async () => {
    await expect(store().get("u1/a1/missing.pdf")).rejects.toBeInstanceOf(ReportNotFoundError);
    await expect(store().signedUrl("u1/a1/missing.pdf", 60)).rejects.toBeInstanceOf(ReportNotFoundError);
  });

  it("turns a Storage outage into a retryable ReportStorageError naming the status, and stores on the next try", async () => {
    storage.failNext(1, 503);

    const error = await store()
      .put("u1/a1/r1.pdf", pdf("later"), "application/pdf")
      .catch((reason: unknown) => reason);

    expect(error).toBeInstanceOf(ReportStorageError);
    expect((error as ReportStorageError).code).toBe("report_storage_failed");
    expect((error as Error).message).toContain("HTTP 503");
    expect(storage.objects.size).toBe(0);
    await store().put("u1/a1/r1.pdf", pdf("later"), "application/pdf");
    expect(storage.objects.size).toBe(1);
  });

  it("refuses a wrong service key with ReportStorageError (HTTP 403)", async () => {
    const error = await store("not-the-key")
      .put("u1/a1/r1.pdf", pdf("x"), "application/pdf")
      .catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(ReportStorageError);
    expect((error as Error).message).toContain("HTTP 403");
  });

  it("refuses a path that would leave the bucket folder before any request", async () => {
    await expect(store().put("../other/r.pdf", pdf("x"), "application/pdf")).rejects.toThrow(TypeError);
    expect(storage.requests).toHaveLength(0);
  });
});
