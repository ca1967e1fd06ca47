import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type PostgrestRpc, randomJwtSecret, startPostgrestRpc } from "@balansity/devstack/postgrest-rpc";
import { createClient, type SupabaseClient, type SupabaseClientOptions } from "@supabase/supabase-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidMessageError, NotOwnerError, NotSignedInError } from "../src/index.ts";
import { createReportDownloadUrl } from "../src/supabase/index.ts";
import {
  createAssessment,
  createUser,
  openQueueDatabase,
  type QueueDatabase,
} from "./support/queue-database.ts";

// A fresh link to one's own report, end to end: supabase-js reads the row through RLS (the
// devstack's table route) and asks Storage to sign the object (the devstack's Storage stand-in over
// a folder, which asks public.owns_report_object as the user); the link is then downloaded.

type RealtimeTransport = NonNullable<NonNullable<SupabaseClientOptions<"public">["realtime"]>["transport"]>;
class NoWebSocket {
  constructor() {
    throw new Error("no realtime connection in these tests");
  }
}
const clientOptions = {
  auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  realtime: { transport: NoWebSocket as unknown as RealtimeTransport },
} satisfies SupabaseClientOptions<"public">;

let database: QueueDatabase;
let api: PostgrestRpc;
let folder: string;

beforeAll(async () => {
  database = await openQueueDatabase();
  folder = await mkdtemp(join(tmpdir(), "report-links-"));
  api = await startPostgrestRpc({
    databaseUrl: database.db.url,
    jwtSecret: randomJwtSecret(),
    storage: { dir: folder, linkSecret: randomBytes(32).toString("base64url") },
  });
});

afterAll(async () => {
  await api?.stop();
  await database?.close();
  await rm(folder, { recursive: true, force: true });
});

function userClient(userId: string): SupabaseClient {
  const accessToken = api.signJwt({
    role: "authenticated",
    sub: userId,
    aud: "authenticated",
    exp: Math.floor(Date.now() / 1000) + 3600,
  });
  return createClient(api.url, api.anonKey, {
    ...clientOptions,
    global: { headers: { Authorization: `Bearer ${accessToken}` } },
  });
}

/** A stored report of `userId`: the file in the folder and its public.reports row, as the worker writes them. */
async function storedReport(userId: string, body = `%PDF-1.7 ${randomUUID()}`) {
  const assessmentId = await createAssessment(database.pool, userId);
  const path = `${userId}/${assessmentId}/${randomBytes(8).toString("hex")}.pdf`;
  await mkdir(dirname(join(folder, path)), { recursive: true });
  await writeFile(join(folder, path), body);
  const { rows } = await database.pool.query<{ id: string }>(
    `insert into public.reports (assessment_id, user_id, storage_path, size_bytes, sha256, renderer_version)
     values ($1, $2, $3, $4, repeat('a', 64), 'test') returning id`,
    [assessmentId, userId, path, body.length],
  );
  return { id: rows[0]!.id, path, body };
}

async function failure<T>(promise: Promise<unknown>, type: abstract new (...args: never[]) => T): Promise<T> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(type);
  return error as T;
}

describe("the devstack's table routes, as a frontend uses them", () => {
  it("completes the user's own checkup through from().update() and reads it back; another user's is untouched", async () => {
    const owner = await createUser(database.pool);
    const stranger = await createUser(database.pool);
    const assessmentId = await createAssessment(database.pool, owner.id, "in_progress");
    const answers = { q1: 5, q2: 5, q3: 4, q4: 4, q5: 3, q6: 3 };

    const foreign = await userClient(stranger.id)
      .from("assessments")
      .update({ status: "completed", answers })
      .eq("id", assessmentId)
      .select("id");
    expect(foreign.error).toBeNull();
    expect(foreign.data).toEqual([]);

    const done = await userClient(owner.id)
      .from("assessments")
      .update({ status: "completed", answers })
      .eq("id", assessmentId)
      .select("id, status, results");
    expect(done.error).toBeNull();
    // The server scores the answers (040): results are never the client's.
    expect(done.data).toEqual([
      {
        id: assessmentId,
        status: "completed",
        results: expect.objectContaining({ score: expect.any(Number) }),
      },
    ]);
    const read = await userClient(owner.id)
      .from("assessments")
      .select("id, status")
      .eq("id", assessmentId)
      .order("created_at", { ascending: false })
      .limit(1);
    expect(read.data).toEqual([{ id: assessmentId, status: "completed" }]);
    expect(
      (await userClient(stranger.id).from("assessments").select("id").eq("id", assessmentId)).data,
    ).toEqual([]);
  });
});

describe("createReportDownloadUrl", () => {
  it("gives the owner a link that downloads the report, expiring when it says", async () => {
    const owner = await createUser(database.pool);
    const report = await storedReport(owner.id);
    const before = Date.now();

    const { url, expiresAt } = await createReportDownloadUrl(userClient(owner.id), report.id, {
      expiresIn: 120,
    });

    expect(url.startsWith(`${api.url}/storage/v1/object/sign/reports/${report.path}?token=`)).toBe(true);
    expect(expiresAt.getTime()).toBeGreaterThanOrEqual(before + 120_000);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/pdf");
    expect(await response.text()).toBe(report.body);
  });

  it("refuses a link that was changed to name another object, or whose token was altered", async () => {
    const owner = await createUser(database.pool);
    const mine = await storedReport(owner.id);
    const other = await storedReport((await createUser(database.pool)).id);
    const { url } = await createReportDownloadUrl(userClient(owner.id), mine.id);

    const otherObject = url.replace(mine.path, other.path);
    const otherResponse = await fetch(otherObject);
    expect(otherResponse.status).toBe(400);
    expect(await otherResponse.json()).toMatchObject({ error: "InvalidSignature" });
    const tampered = new URL(url);
    tampered.searchParams.set("token", `${tampered.searchParams.get("token")}x`);
    expect((await fetch(tampered)).status).toBe(400);
    const unsigned = new URL(url);
    unsigned.search = "";
    expect((await fetch(unsigned)).status).toBe(400);
  });

  it("refuses an expired link", async () => {
    const owner = await createUser(database.pool);
    const report = await storedReport(owner.id);
    // The shortest link Storage signs (1 s), waited out: the server checks the expiry, not the client.
    const signed = await userClient(owner.id).storage.from("reports").createSignedUrl(report.path, 1);
    expect(signed.error).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const response = await fetch(signed.data!.signedUrl);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "InvalidJWT", message: "This link has expired" });
  });

  it("gives nobody else a link: another user's report and a missing one are NotOwnerError alike", async () => {
    const owner = await createUser(database.pool);
    const stranger = await createUser(database.pool);
    const report = await storedReport(owner.id);

    const notTheirs = await failure(
      createReportDownloadUrl(userClient(stranger.id), report.id),
      NotOwnerError,
    );
    const missing = await failure(
      createReportDownloadUrl(userClient(stranger.id), randomUUID()),
      NotOwnerError,
    );
    expect(notTheirs.message.replace(report.id, "")).toBe(missing.message.replace(missing.id, ""));

    // Nor by asking Storage for the owner's object path directly.
    const direct = await userClient(stranger.id).storage.from("reports").createSignedUrl(report.path, 60);
    expect(direct.data).toBeNull();
    expect(direct.error?.message).toBe("Object not found");
  });

  it("needs a signed-in user: the anon key alone gets NotSignedInError", async () => {
    const owner = await createUser(database.pool);
    const report = await storedReport(owner.id);
    const anon = createClient(api.url, api.anonKey, clientOptions);
    const error = await failure(createReportDownloadUrl(anon, report.id), NotSignedInError);
    expect(error.cause).toMatchObject({ sqlState: "42501", status: 401 });
    const direct = await anon.storage.from("reports").createSignedUrl(report.path, 60);
    expect(direct.error?.message).toBe("Object not found");
  });

  it("checks its arguments before sending anything", async () => {
    const error = await failure(
      createReportDownloadUrl(userClient(randomUUID()), "not-a-uuid", { expiresIn: 5 }),
      InvalidMessageError,
    );
    expect(error.issues).toEqual([
      'report download link: "report_id" must be a UUID',
      'report download link: "expires_in" must be a whole number from 60 to 86400',
    ]);
  });
});
