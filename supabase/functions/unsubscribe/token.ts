/**
 * The unsubscribe token the worker puts in reminder emails (apps/worker/src/email/list-unsubscribe.ts):
 * `<user id>.<base64url HMAC-SHA256(secret, "balansity-unsubscribe\n<purpose>\n<user id>")>`. It
 * has no expiry (an unsubscribe link must keep working) and is bound to its purpose: a token made for
 * another purpose does not verify here.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The user id the token was made for, or undefined when it is malformed or not signed with `secret`. */
export async function verifyUnsubscribeToken(
  secret: string,
  token: string,
  purpose: string,
): Promise<string | undefined> {
  const dot = token.indexOf(".");
  if (dot < 0 || token.length > 200) return undefined;
  const userId = token.slice(0, dot);
  const mac = fromBase64Url(token.slice(dot + 1));
  if (!UUID.test(userId) || mac?.length !== 32) return undefined;
  // WebCrypto's verify compares in constant time.
  const valid = await crypto.subtle.verify("HMAC", await hmacKey(secret), mac, message(purpose, userId));
  return valid ? userId : undefined;
}

/** Makes a token (the worker's construction); for tests and for tools that mail a link by hand. */
export async function signUnsubscribeToken(secret: string, userId: string, purpose: string): Promise<string> {
  const id = userId.toLowerCase();
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), message(purpose, id)));
  return `${id}.${toBase64Url(mac)}`;
}

function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

function message(purpose: string, userId: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`balansity-unsubscribe\n${purpose}\n${userId}`);
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    // Only the canonical spelling: the spare bits of the last character would otherwise make several
    // tokens for one signature.
    return toBase64Url(bytes) === text ? bytes : undefined;
  } catch {
    return undefined;
  }
}

function toBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}
