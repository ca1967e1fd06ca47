import { createHmac, timingSafeEqual } from "node:crypto";

// HS256 JWTs, as Supabase's API signs them: sessions and keys (postgrest-rpc.ts) and Storage's
// signed links (storage-objects.ts).

/** Signs `claims` with `secret` (HS256). */
export function signHs256(claims: object, secret: string): string {
  const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const signature = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}
/** Verifies an HS256 JWT; returns its claims or undefined when it is not one signed with `secret`. */
export function verifyHs256(token: string, secret: string): Record<string, unknown> | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts as [string, string, string];
  try {
    const decodedHeader: unknown = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
    if ((decodedHeader as { alg?: unknown } | null)?.alg !== "HS256") return undefined;
    const expected = createHmac("sha256", secret).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    if (typeof claims !== "object" || claims === null || Array.isArray(claims)) return undefined;
    return claims as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
