import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { signHs256, verifyHs256 } from "./hs256.ts";

// The part of Supabase Storage a signed report link needs, over a folder: the folder store's files
// (the worker's REPORT_STORAGE=fs writes them) served the way Storage serves a private bucket.
//
//   POST /storage/v1/object/sign/<bucket>/<path>   { expiresIn }  → { signedURL }
//        as the signed-in user; `mayRead` decides (on Supabase: the select policy on storage.objects)
//   GET  /storage/v1/object/sign/<bucket>/<path>?token=…          → the file
//        the token is an HS256 JWT { url: "<bucket>/<path>", iat, exp } signed with the link secret:
//        a link for another object, a changed one or one past `exp` is refused.

export interface StorageFolder {
  /** The folder of bucket `bucket`: `<dir>/<path>` is object `<bucket>/<path>`. */
  readonly dir: string;
  /** Default `reports`. */
  readonly bucket?: string | undefined;
  /** The per-deployment secret links are signed with (at least 32 characters). */
  readonly linkSecret: string;
}

export const SIGN_PATH = /^\/storage\/v1\/object\/sign\/([a-z0-9][a-z0-9_-]{1,62})\/(.+)$/;

/** Storage's error shape (`{ statusCode, error, message }`), which storage-js turns into a StorageApiError. */
export class StorageError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }

  get body() {
    return { statusCode: String(this.status), error: this.error, message: this.message };
  }
}

function objectPath(folder: StorageFolder, bucket: string, encodedPath: string): string {
  if (bucket !== (folder.bucket ?? "reports")) throw new StorageError(400, "not_found", "Bucket not found");
  const path = decodeURIComponent(encodedPath);
  // Object paths as the report stores write them: relative, no "." or ".." parts, no empty ones.
  const parts = path.split("/");
  if (!/^[\w./-]+$/.test(path) || parts.some((part) => part === "" || part === "." || part === "..")) {
    throw new StorageError(400, "invalid_key", "Invalid key");
  }
  return path;
}

/** A signed link's relative URL, as Storage answers createSignedUrl. */
export function signObjectUrl(
  folder: StorageFolder,
  bucket: string,
  encodedPath: string,
  expiresIn: unknown,
  now: Date,
): { signedURL: string } {
  const path = objectPath(folder, bucket, encodedPath);
  if (typeof expiresIn !== "number" || !Number.isInteger(expiresIn) || expiresIn < 1) {
    throw new StorageError(400, "invalid_request", "expiresIn must be a positive whole number of seconds");
  }
  const iat = Math.floor(now.getTime() / 1000);
  const token = signHs256({ url: `${bucket}/${path}`, iat, exp: iat + expiresIn }, folder.linkSecret);
  return { signedURL: `/object/sign/${bucket}/${encodeURI(path)}?token=${token}` };
}

/** The object a signed link points to, after checking its token; throws StorageError otherwise. */
export async function readSignedObject(
  folder: StorageFolder,
  bucket: string,
  encodedPath: string,
  token: string | null,
  now: Date,
): Promise<Buffer> {
  const path = objectPath(folder, bucket, encodedPath);
  const claims = token ? verifyHs256(token, folder.linkSecret) : undefined;
  if (!claims || claims.url !== `${bucket}/${path}`) {
    throw new StorageError(
      400,
      "InvalidSignature",
      "The signature of this link is not valid for this object",
    );
  }
  if (typeof claims.exp !== "number" || Math.floor(now.getTime() / 1000) >= claims.exp) {
    throw new StorageError(400, "InvalidJWT", "This link has expired");
  }
  try {
    return await readFile(join(folder.dir, path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new StorageError(400, "not_found", "Object not found");
    }
    throw error;
  }
}
