import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsReportStore, ReportNotFoundError, ReportStorageError } from "../src/index.ts";

let root: string;
const now = new Date("2026-11-25T10:00:00Z");
const bytes = (text: string) => new TextEncoder().encode(text);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "fs-report-store-"));
});
afterAll(() => rm(root, { recursive: true, force: true }));

function store() {
  return new FsReportStore({ root, publicUrl: "http://127.0.0.1:3000/reports", now: () => now });
}

describe("FsReportStore", () => {
  it("writes a report under its path and reads it back", async () => {
    await store().put("u1/a1/r1.pdf", bytes("%PDF one"), "application/pdf");
    expect(Buffer.from(await store().get("u1/a1/r1.pdf")).toString()).toBe("%PDF one");
  });

  it("replaces a report stored again at the same path, leaving no temporary files", async () => {
    await store().put("u1/a1/r2.pdf", bytes("first"), "application/pdf");
    await store().put("u1/a1/r2.pdf", bytes("second"), "application/pdf");
    expect(Buffer.from(await store().get("u1/a1/r2.pdf")).toString()).toBe("second");
    expect((await readdir(join(root, "u1/a1"))).sort()).toEqual(["r1.pdf", "r2.pdf"]);
  });

  it("links to the public URL plus the path, expiring after the given seconds", async () => {
    expect(await store().signedUrl("u1/a1/r1.pdf", 60)).toEqual({
      url: "http://127.0.0.1:3000/reports/u1/a1/r1.pdf",
      expiresAt: new Date("2026-11-25T10:01:00Z"),
    });
  });

  it("reports a missing file as ReportNotFoundError", async () => {
    await expect(store().get("u1/a1/none.pdf")).rejects.toBeInstanceOf(ReportNotFoundError);
  });

  it("refuses paths that leave the root", async () => {
    for (const path of ["../x.pdf", "/etc/x.pdf", "u1//x.pdf", "u1/./x.pdf", "u1/отчёт.pdf"]) {
      await expect(store().put(path, bytes("x"), "application/pdf")).rejects.toThrow(TypeError);
    }
  });

  it("turns a write that fails into a retryable ReportStorageError", async () => {
    await writeFile(join(root, "blocker"), "a file where a folder should be");
    const error = await store()
      .put("blocker/a1/r.pdf", bytes("x"), "application/pdf")
      .catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(ReportStorageError);
    expect((error as Error).message).toContain("blocker/a1/r.pdf");
  });
});
