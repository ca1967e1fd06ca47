/**
 * A small stand-in for PostgREST (behind Supabase's API gateway) that speaks the part supabase-js
 * `rpc()` uses, so that code calling RPCs through supabase-js can be tested end to end against a
 * real database with real roles and grants. LOCAL TESTS ONLY: it is not a server to deploy.
 *
 * What it does, per request:
 *
 *   POST /rest/v1/rpc/<fn>   body: a JSON object of named arguments (`{}` when empty)
 *
 *   1. gateway   the `apikey` header must be a JWT signed with the secret (Supabase's gateway refuses
 *                a request without a valid key: 401 "No API key found in request" / "Invalid API key")
 *   2. auth      `Authorization: Bearer <jwt>`, HS256, verified with node:crypto (signature, exp,
 *                nbf); no Authorization header means the anon role. The `role` claim (anon,
 *                authenticated, operator or service_role; missing = anon) becomes the transaction's role.
 *   3. call      in one transaction: set_config('role', …), `request.jwt.claims` (and the older
 *                `request.jwt.claim.sub` / `.role`), `request.method`, `request.path`, all local to
 *                the transaction; then `public.<fn>(arg => …)` with the arguments converted by
 *                json_to_record to the function's own parameter types, as PostgREST does.
 *   4. answer    scalar → the JSON value; a composite → an object; setof → an array; void → 204.
 *                Errors are PostgREST's JSON `{ code, message, details, hint }` with PostgREST's
 *                SQLSTATE → HTTP status mapping (42501 → 401 for anon, 403 otherwise; P0001 → 400;
 *                other P0xxx → 500; 42883 → 404; …). An unknown function or argument set is
 *                PGRST202 (404).
 *
 *   GET|POST|PATCH /rest/v1/<table>   rows of public tables as the caller's role (grants and RLS
 *                            decide): select lists, eq/neq/gt/gte/lt/lte/is filters, order, limit,
 *                            `Prefer: return=representation` (postgrest-tables.ts)
 *   POST /storage/v1/object/sign/reports/<path>, GET …?token=   with the `storage` option: Storage's
 *                            signed links over the folder store (storage-objects.ts)
 *
 *   GET  /auth/v1/user       the user of a valid `Authorization: Bearer <jwt>`, from its claims
 *                            (`sub`, `email`, `app_metadata`, …): what supabase-js asks when it takes a
 *                            session from a sign-in link (`#access_token=…`, the implicit flow)
 *   POST /auth/v1/logout     204 (tokens are not revoked: they expire)
 *
 * Every answer carries CORS headers (any origin, no cookies) and OPTIONS preflights are answered,
 * so a web app on another port (the operator console) can call it from a browser.
 *
 * Not supported (answered 404/405): embedded resources, DELETE, GET/HEAD on /rpc, other `Prefer` options, other schemas,
 * the rest of GoTrue (sign-in with a password, token refresh, sign-up).
 *
 * ### Examples
 * ```ts
 * const api = await startPostgrestRpc({ databaseUrl: db.url, jwtSecret: randomJwtSecret() });
 * const anon = createClient(api.url, api.anonKey, { auth: { persistSession: false } });
 * const { error } = await anon.rpc("pgmq_read", { queue_name: "email_queue" }); // 42501
 * await api.stop();
 * ```
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { signHs256, verifyHs256 } from "./hs256.ts";
import { runTableQuery, TableRequestError, tableQuery } from "./postgrest-tables.ts";
import {
  readSignedObject,
  SIGN_PATH,
  StorageError,
  type StorageFolder,
  signObjectUrl,
} from "./storage-objects.ts";

/**
 * The roles a JWT may name, as on Supabase: its three, and the project's operator role (migration 046,
 * named by the Custom Access Token Hook for operators).
 */
export const postgrestRoles = ["anon", "authenticated", "operator", "service_role"] as const;
export type PostgrestRole = (typeof postgrestRoles)[number];

/** JWT claims; `role` picks the database role, `sub` is what auth.uid() returns. */
export interface JwtClaims {
  readonly role?: PostgrestRole | undefined;
  readonly sub?: string | undefined;
  /** Seconds since the epoch; a token past it is refused (PGRST303). */
  readonly exp?: number | undefined;
  readonly [claim: string]: unknown;
}

export interface PostgrestRpcOptions {
  /** A connection string of a role that may `set role` to anon, authenticated and service_role. */
  readonly databaseUrl: string;
  /** The HS256 secret JWTs are signed with; make a fresh one per test run ({@link randomJwtSecret}). */
  readonly jwtSecret: string;
  /** Default 127.0.0.1. */
  readonly host?: string | undefined;
  /** Default 0 (any free port). */
  readonly port?: number | undefined;
  /**
   * Serve the folder store's reports as Storage serves the private `reports` bucket: signed links
   * for their owner (public.owns_report_object, the rule of the bucket's policy), checked on download.
   */
  readonly storage?: StorageFolder | undefined;
}

export interface PostgrestRpc {
  /** The project URL to give createClient (`http://127.0.0.1:<port>`; supabase-js adds /rest/v1). */
  readonly url: string;
  /** A JWT with role anon, like a Supabase project's anon key. */
  readonly anonKey: string;
  /** A JWT with role service_role, like a project's service-role key. */
  readonly serviceRoleKey: string;
  /** Signs claims with the secret (HS256). Add `exp` for an expiring token. */
  signJwt(claims: JwtClaims): string;
  /** Stops accepting requests, ends open connections and closes the database pool. */
  stop(): Promise<void>;
}

/** A random HS256 secret (256 bits); never commit one. */
export function randomJwtSecret(): string {
  return randomBytes(32).toString("base64url");
}

const RPC_PATH = /^\/rest\/v1\/rpc\/([A-Za-z_][A-Za-z0-9_]*)$/;
const AUTH_PATH = /^\/auth\/v1\/([a-z_]+)$/;
const TABLE_PATH = /^\/rest\/v1\/([a-z_][a-z0-9_]*)$/;
// No credentials mode: the browser sends the keys as headers, never cookies, so any origin may call.
const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, PATCH, OPTIONS",
  "access-control-max-age": "600",
  "access-control-expose-headers": "content-range",
} as const;
const MAX_BODY_BYTES = 1024 * 1024;
const SCHEMA = "public";

/** Starts the server on a free port. */
export async function startPostgrestRpc(options: PostgrestRpcOptions): Promise<PostgrestRpc> {
  const secret = options.jwtSecret;
  if (secret.length < 32) throw new Error("startPostgrestRpc: jwtSecret must be at least 32 characters");
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 5 });
  // An idle connection ended by the server (a test dropping its database with force) is discarded
  // by the pool; the next request opens a new one. Without a listener Node would crash on it.
  pool.on("error", () => undefined);
  const signJwt = (claims: JwtClaims) => signHs256(claims, secret);

  const server = createServer((request, response) => {
    handle(request, response, pool, secret, options.storage).catch((error: unknown) => {
      send(response, 500, postgrestError("PGRST000", (error as Error).message));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;

  return {
    url: `http://${address.address}:${address.port}`,
    anonKey: signJwt({ role: "anon", iss: "devstack" }),
    serviceRoleKey: signJwt({ role: "service_role", iss: "devstack" }),
    signJwt,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.end();
    },
  };
}

interface PostgrestErrorBody {
  readonly code: string | null;
  readonly message: string;
  readonly details: string | null;
  readonly hint: string | null;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: PostgrestErrorBody,
  ) {
    super(body.message);
  }
}

function postgrestError(
  code: string | null,
  message: string,
  details?: string,
  hint?: string,
): PostgrestErrorBody {
  return { code, message, details: details ?? null, hint: hint ?? null };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  pool: pg.Pool,
  secret: string,
  storage: StorageFolder | undefined,
) {
  for (const [name, value] of Object.entries(CORS_HEADERS)) response.setHeader(name, value);
  try {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (request.method === "OPTIONS") {
      const asked = request.headers["access-control-request-headers"];
      response.writeHead(204, {
        "access-control-allow-headers": asked ?? "authorization, apikey, content-type",
      });
      response.end();
      return;
    }
    const auth = AUTH_PATH.exec(url.pathname);
    if (auth) {
      handleAuth(request, response, auth[1] as string, secret);
      return;
    }
    const signPath = SIGN_PATH.exec(url.pathname);
    if (signPath && storage) {
      await handleStorage(request, response, pool, secret, storage, url, signPath);
      return;
    }
    const table = TABLE_PATH.exec(url.pathname);
    if (table && table[1] !== "rpc") {
      checkApiKey(request.headers.apikey, secret);
      const claims = authenticate(request.headers.authorization, secret);
      const method = request.method ?? "GET";
      const body = method === "GET" ? undefined : await readJson(request);
      const prefer = String(request.headers.prefer ?? "");
      const query = (() => {
        try {
          return tableQuery(
            method,
            table[1] as string,
            url.searchParams,
            body,
            prefer.includes("return=representation"),
          );
        } catch (error) {
          if (!(error instanceof TableRequestError)) throw error;
          throw new HttpError(
            error.code === "PGRST101" ? 405 : 400,
            postgrestError(error.code, error.message),
          );
        }
      })();
      const rows = await asRequest(pool, claims, method, url.pathname, (client) =>
        runTableQuery(client, query),
      );
      if (query.returnsRows) send(response, query.status, rows);
      else response.writeHead(query.status).end();
      return;
    }
    const match = RPC_PATH.exec(url.pathname);
    if (!match) {
      throw new HttpError(
        404,
        postgrestError("PGRST125", `Invalid path specified in request URL: ${url.pathname}`),
      );
    }
    if (request.method !== "POST") {
      throw new HttpError(
        405,
        postgrestError("PGRST101", "Only POST is supported for functions by this test server"),
      );
    }
    const profile = request.headers["content-profile"];
    if (profile !== undefined && profile !== SCHEMA) {
      throw new HttpError(
        406,
        postgrestError("PGRST106", `The schema must be one of the following: ${SCHEMA}`),
      );
    }
    checkApiKey(request.headers.apikey, secret);
    const claims = authenticate(request.headers.authorization, secret);
    const body = await readJsonObject(request);
    const result = await callFunction(pool, match[1] as string, body, claims, url.pathname);
    if (result.kind === "void") {
      response.writeHead(204).end();
    } else {
      send(response, 200, result.value);
    }
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    send(response, error.status, error.body);
  }
}

/**
 * The two GoTrue endpoints a browser with a minted session needs. Errors in GoTrue's shape
 * (`{ code, error_code, msg }`), which supabase-js turns into an AuthApiError.
 */
function handleAuth(request: IncomingMessage, response: ServerResponse, endpoint: string, secret: string) {
  const authError = (status: number, errorCode: string, msg: string) =>
    send(response, status, { code: status, error_code: errorCode, msg });
  checkApiKey(request.headers.apikey, secret);
  if (endpoint === "logout" && request.method === "POST") {
    response.writeHead(204).end();
    return;
  }
  if (endpoint !== "user" || request.method !== "GET") {
    authError(404, "not_found", `${request.method} /auth/v1/${endpoint} is not offered by this test server`);
    return;
  }
  let claims: Record<string, unknown>;
  try {
    claims = authenticate(request.headers.authorization, secret).claims;
  } catch (error) {
    authError(403, "bad_jwt", (error as Error).message);
    return;
  }
  // An operator's token names the operator role (the access token hook); the user is still a user.
  if ((claims.role !== "authenticated" && claims.role !== "operator") || typeof claims.sub !== "string") {
    authError(
      403,
      "bad_jwt",
      "the token is not a signed-in user's (role authenticated or operator, with a sub)",
    );
    return;
  }
  send(response, 200, {
    id: claims.sub,
    aud: claims.aud ?? "authenticated",
    role: "authenticated",
    email: typeof claims.email === "string" ? claims.email : "",
    app_metadata: claims.app_metadata ?? {},
    user_metadata: claims.user_metadata ?? {},
    identities: [],
    created_at: new Date(0).toISOString(),
  });
}

/** A database error → PostgREST's answer; anything else is rethrown (a 500). */
function fromDatabaseError(error: unknown, role: PostgrestRole): unknown {
  const pgError = error as { code?: unknown; message?: unknown; detail?: unknown; hint?: unknown };
  if (typeof pgError.code !== "string" || !/^[0-9A-Z]{5}$/.test(pgError.code)) return error;
  return new HttpError(
    statusOfSqlState(pgError.code, role),
    postgrestError(
      pgError.code,
      String(pgError.message),
      typeof pgError.detail === "string" ? pgError.detail : undefined,
      typeof pgError.hint === "string" ? pgError.hint : undefined,
    ),
  );
}

function send(response: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}

/** The gateway's check: every request carries a valid project key. */
function checkApiKey(header: string | string[] | undefined, secret: string) {
  const key = Array.isArray(header) ? header[0] : header;
  if (!key) {
    throw new HttpError(
      401,
      postgrestError(null, "No API key found in request", undefined, "No `apikey` request header was found."),
    );
  }
  if (!verifyHs256(key, secret)) {
    throw new HttpError(
      401,
      postgrestError(
        null,
        "Invalid API key",
        undefined,
        "Double check your Supabase `anon` or `service_role` API key.",
      ),
    );
  }
}

interface RequestClaims {
  readonly role: PostgrestRole;
  readonly claims: Record<string, unknown>;
}

function authenticate(header: string | undefined, secret: string): RequestClaims {
  if (header === undefined) return { role: "anon", claims: { role: "anon" } };
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (!token)
    throw new HttpError(401, postgrestError("PGRST301", "Expected a Bearer token in Authorization"));
  const claims = verifyHs256(token, secret);
  if (!claims) throw new HttpError(401, postgrestError("PGRST301", "JWT could not be verified"));
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp === "number" && now >= claims.exp) {
    throw new HttpError(401, postgrestError("PGRST303", "JWT expired"));
  }
  if (typeof claims.nbf === "number" && now < claims.nbf) {
    throw new HttpError(401, postgrestError("PGRST303", "JWT not yet valid"));
  }
  const role = claims.role ?? "anon";
  if (!postgrestRoles.includes(role as PostgrestRole)) {
    throw new HttpError(
      401,
      postgrestError("PGRST301", `JWT role "${String(role)}" is not one of ${postgrestRoles.join(", ")}`),
    );
  }
  return { role: role as PostgrestRole, claims };
}

async function readJsonObject(request: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readJson(request);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, postgrestError("PGRST102", "The body of a function call must be a JSON object"));
  }
  return body as Record<string, unknown>;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, postgrestError("PGRST102", "Request body too large"));
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, postgrestError("PGRST102", "Empty or invalid json"));
  }
}

/**
 * Runs `work` in one transaction as the request's role with its claims (what auth.uid() and RLS
 * read), all local to the transaction, as PostgREST does; database errors become PostgREST's answers.
 */
async function asRequest<T>(
  pool: pg.Pool,
  request: RequestClaims,
  method: string,
  path: string,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    try {
      await setRequestContext(client, request, method, path);
      const result = await work(client);
      await client.query("commit");
      return result;
    } catch (error) {
      await client.query("rollback");
      throw error;
    }
  } catch (error) {
    throw fromDatabaseError(error, request.role);
  } finally {
    client.release();
  }
}

async function setRequestContext(
  client: pg.PoolClient,
  request: RequestClaims,
  method: string,
  path: string,
) {
  await client.query(
    `select
       pg_catalog.set_config('role', $1, true),
       pg_catalog.set_config('request.jwt.claims', $2, true),
       pg_catalog.set_config('request.jwt.claim.sub', $3, true),
       pg_catalog.set_config('request.jwt.claim.role', $1, true),
       pg_catalog.set_config('request.method', $5, true),
       pg_catalog.set_config('request.path', $4, true),
       pg_catalog.set_config('search_path', 'public, extensions', true)`,
    [
      request.role,
      JSON.stringify(request.claims),
      typeof request.claims.sub === "string" ? request.claims.sub : "",
      path,
      method,
    ],
  );
}

/**
 * Storage's signed links over the folder store. Signing asks the database, as the signed-in user,
 * whether they own the object (public.owns_report_object: the rule of the bucket's select policy).
 */
async function handleStorage(
  request: IncomingMessage,
  response: ServerResponse,
  pool: pg.Pool,
  secret: string,
  storage: StorageFolder,
  url: URL,
  [, bucket, path]: RegExpExecArray,
) {
  const storageError = (error: StorageError) => send(response, error.status, error.body);
  try {
    if (request.method === "GET") {
      const file = await readSignedObject(
        storage,
        bucket as string,
        path as string,
        url.searchParams.get("token"),
        new Date(),
      );
      response.writeHead(200, {
        "content-type": "application/pdf",
        "content-length": file.length,
        "cache-control": "private, no-store",
      });
      response.end(file);
      return;
    }
    if (request.method !== "POST") throw new StorageError(405, "invalid_request", "GET or POST");
    checkApiKey(request.headers.apikey, secret);
    const claims = authenticate(request.headers.authorization, secret);
    const body = await readJson(request);
    const objectPath = decodeURIComponent(path as string);
    const owns = await asRequest(pool, claims, "POST", url.pathname, async (client) => {
      const { rows } = await client.query<{ owns: boolean }>("select public.owns_report_object($1) as owns", [
        objectPath,
      ]);
      return rows[0]?.owns === true;
    }).catch((error: unknown) => {
      // anon may not even ask: Storage answers a refused policy check as "not found" as well.
      if (error instanceof HttpError && error.body.code === "42501") return false;
      throw error;
    });
    if (!owns) throw new StorageError(400, "not_found", "Object not found");
    send(
      response,
      200,
      signObjectUrl(
        storage,
        bucket as string,
        path as string,
        (body as { expiresIn?: unknown }).expiresIn,
        new Date(),
      ),
    );
  } catch (error) {
    if (error instanceof StorageError) storageError(error);
    else throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Calling the function
// ---------------------------------------------------------------------------------------------

interface FunctionSignature {
  readonly returns_set: boolean;
  readonly returns_void: boolean;
  readonly required: number;
  readonly args: readonly { readonly name: string | null; readonly type: string }[];
}

/** Every overload of `public.<name>` with its input arguments (name, SQL type) in order. */
const SIGNATURES_SQL = `
  select
    p.proretset as returns_set,
    p.prorettype = 'pg_catalog.void'::pg_catalog.regtype as returns_void,
    p.pronargs - p.pronargdefaults as required,
    coalesce((
      select pg_catalog.json_agg(
        pg_catalog.json_build_object('name', a.name, 'type', pg_catalog.format_type(a.type, null))
        order by a.ord
      )
      from unnest(
        coalesce(p.proallargtypes, p.proargtypes::pg_catalog.oid[]),
        p.proargnames,
        coalesce(p.proargmodes, pg_catalog.array_fill('i'::"char", array[p.pronargs::integer]))
      ) with ordinality as a(type, name, mode, ord)
      where a.mode in ('i', 'b', 'v')
    ), '[]'::pg_catalog.json) as args
  from pg_catalog.pg_proc p
  where p.pronamespace = $1::pg_catalog.regnamespace and p.proname = $2 and p.prokind = 'f'`;

type CallResult = { readonly kind: "void" } | { readonly kind: "value"; readonly value: unknown };

async function callFunction(
  pool: pg.Pool,
  name: string,
  body: Record<string, unknown>,
  request: RequestClaims,
  path: string,
): Promise<CallResult> {
  const given = Object.keys(body);
  const client = await pool.connect();
  try {
    const { rows } = await client.query<FunctionSignature>(SIGNATURES_SQL, [SCHEMA, name]);
    // PostgREST picks the overload whose parameter names cover the given keys and whose required
    // parameters are all given.
    const matching = rows.filter((signature) => {
      const names = signature.args.map((arg) => arg.name);
      return (
        given.every((key) => names.includes(key)) &&
        signature.args
          .slice(0, signature.required)
          .every((arg) => arg.name !== null && given.includes(arg.name))
      );
    });
    const signature = matching[0];
    if (signature === undefined || matching.length > 1) {
      const call = `${SCHEMA}.${name}(${given.join(", ")})`;
      throw matching.length > 1
        ? new HttpError(
            300,
            postgrestError("PGRST203", `Could not choose the best candidate function for ${call}`),
          )
        : new HttpError(
            404,
            postgrestError(
              "PGRST202",
              `Could not find the function ${call} in the schema cache`,
              `Searched for the function ${SCHEMA}.${name} with parameters ${given.join(", ") || "(none)"}`,
            ),
          );
    }

    const args = signature.args.filter((arg) => arg.name !== null && given.includes(arg.name));
    const call = `${quoteIdent(SCHEMA)}.${quoteIdent(name)}(${args
      .map((arg) => `${quoteIdent(arg.name as string)} => _args.${quoteIdent(arg.name as string)}`)
      .join(", ")})`;
    // As PostgREST: the JSON body becomes a record of the parameters' own types.
    const from =
      args.length === 0
        ? []
        : [
            `pg_catalog.json_to_record($1::pg_catalog.json) as _args(${args
              .map((arg) => `${quoteIdent(arg.name as string)} ${arg.type}`)
              .join(", ")})`,
          ];
    const text = signature.returns_void
      ? `select ${call}${from.length > 0 ? ` from ${from.join(", ")}` : ""}`
      : `select pg_catalog.to_jsonb(_result) as value from ${[...from, `lateral ${call} as _result`].join(", ")}`;

    await client.query("begin");
    try {
      await setRequestContext(client, request, "POST", path);
      const result = await client.query<{ value: unknown }>(
        text,
        args.length === 0 ? [] : [JSON.stringify(body)],
      );
      await client.query("commit");
      if (signature.returns_void) return { kind: "void" };
      const values = result.rows.map((row) => row.value);
      return { kind: "value", value: signature.returns_set ? values : (values[0] ?? null) };
    } catch (error) {
      await client.query("rollback");
      throw error;
    }
  } catch (error) {
    throw fromDatabaseError(error, request.role);
  } finally {
    client.release();
  }
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** PostgREST's SQLSTATE → HTTP status table (docs.postgrest.org, "Errors"). */
export function statusOfSqlState(code: string, role: PostgrestRole): number {
  const exact: Record<string, number> = {
    "23503": 409,
    "23505": 409,
    "25006": 405,
    "53400": 500,
    P0001: 400,
    "42883": 404,
    "42P01": 404,
    "42P17": 500,
  };
  const known = exact[code];
  if (known !== undefined) return known;
  // PostgREST's custom statuses: SQLSTATE PTxyz answers HTTP xyz (PT429 → 429).
  if (/^PT[1-5]\d\d$/.test(code)) return Number(code.slice(2));
  if (code === "42501") return role === "anon" ? 401 : 403;
  const byClass: readonly [string, number][] = [
    ["08", 503],
    ["09", 500],
    ["0L", 403],
    ["0P", 403],
    ["25", 500],
    ["28", 403],
    ["2D", 500],
    ["38", 500],
    ["39", 500],
    ["3B", 500],
    ["40", 500],
    ["53", 503],
    ["54", 500],
    ["55", 500],
    ["57", 500],
    ["58", 500],
    ["F0", 500],
    ["HV", 500],
    ["P0", 500],
    ["XX", 500],
  ];
  return byClass.find(([prefix]) => code.startsWith(prefix))?.[1] ?? 400;
}
