import { createHmac } from "node:crypto";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
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

const linkSecret = "l".repeat(32);

function store() {
  return new FsReportStore({ root, publicUrl: "http://127.0.0.1:3000/reports", linkSecret, now: () => now });
}

/** The claims of a link's token, after checking its HS256 signature with `secret`. */
function tokenClaims(url: string, secret: string): Record<string, unknown> {
  const token = new URL(url).searchParams.get("token") ?? "";
  const [header = "", payload = "", signature = ""] = token.split(".");
  const expected = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
  expect(signature).toBe(expected);
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
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

  it("keeps files 0600 in folders of 0700", async () => {
    await store().put("u9/a9/r.pdf", bytes("private"), "application/pdf");
    expect((await stat(join(root, "u9/a9/r.pdf"))).mode & 0o777).toBe(0o600);
    expect((await stat(join(root, "u9/a9"))).mode & 0o777).toBe(0o700);
    expect((await stat(join(root, "u9"))).mode & 0o777).toBe(0o700);
  });

  it("signs links as Storage does: a token naming the object and its expiry, signed with the secret", async () => {
    const { url, expiresAt } = await store().signedUrl("u1/a1/r1.pdf", 60);
    expect(url).toMatch(
      /^http:\/\/127\.0\.0\.1:3000\/reports\/u1\/a1\/r1\.pdf\?token=[\w-]+\.[\w-]+\.[\w-]+$/,
    );
    expect(expiresAt).toEqual(new Date("2026-11-25T10:01:00Z"));
    expect(tokenClaims(url, linkSecret)).toEqual({
      url: "reports/u1/a1/r1.pdf",
      iat: now.getTime() / 1000,
      exp: now.getTime() / 1000 + 60,
    });
    // Another secret does not verify it: the link cannot be made from the ids alone.
    expect(() => tokenClaims(url, "m".repeat(32))).toThrow();
  });

  it("refuses a link secret shorter than 32 characters", () => {
    expect(() => new FsReportStore({ root, publicUrl: "http://x/", linkSecret: "short" })).toThrow(
      /linkSecret must be at least 32 characters/,
    );
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
