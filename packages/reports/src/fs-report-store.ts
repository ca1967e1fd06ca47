import { createHmac, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ReportNotFoundError, ReportStorageError } from "./report-errors.ts";
import { assertReportPath, type ReportStore, type SignedReportUrl } from "./report-store.ts";

export interface FsReportStoreOptions {
  /** Folder the reports are written under (created when missing). */
  readonly root: string;
  /**
   * Base of the links in emails; the path and `?token=…` are appended. Whatever serves it checks
   * the token: the devstack's API at `<api>/storage/v1/object/sign/reports/`, as Supabase Storage.
   */
  readonly publicUrl: string;
  /** The per-deployment secret links are signed with (HS256, at least 32 characters); never logged. */
  readonly linkSecret: string;
  /** The bucket the links name, as Storage's do; default `reports`. */
  readonly bucket?: string;
  readonly now?: () => Date;
}

/**
 * Reports as files under a folder: for development and tests. Writes go to a temporary file first
 * and are renamed into place, so a reader never sees half a PDF. Files are 0600 in folders of 0700
 * (health data: only the worker's user reads them). A link is Supabase Storage's kind of signed
 * link: `<publicUrl><path>?token=<HS256 JWT { url: "<bucket>/<path>", iat, exp }>`, signed with the
 * deployment's link secret; the server that serves the files refuses a changed or expired one.
 */
export class FsReportStore implements ReportStore {
  readonly kind = "fs";
  readonly #root: string;
  readonly #publicUrl: URL;
  readonly #linkSecret: string;
  readonly #bucket: string;
  readonly #now: () => Date;

  constructor(options: FsReportStoreOptions) {
    if (options.linkSecret.length < 32) {
      throw new TypeError("FsReportStore: linkSecret must be at least 32 characters (REPORT_LINK_SECRET)");
    }
    this.#root = options.root;
    this.#linkSecret = options.linkSecret;
    this.#bucket = options.bucket ?? "reports";
    this.#publicUrl = new URL(options.publicUrl.endsWith("/") ? options.publicUrl : `${options.publicUrl}/`);
    this.#now = options.now ?? (() => new Date());
  }

  async put(path: string, body: Uint8Array, _contentType: string): Promise<void> {
    assertReportPath(path);
    const target = join(this.#root, path);
    const temporary = `${target}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      await writeFile(temporary, body, { mode: 0o600 });
      await rename(temporary, target);
    } catch (error) {
      throw new ReportStorageError(`could not write report ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async signedUrl(path: string, expiresInSeconds: number): Promise<SignedReportUrl> {
    assertReportPath(path);
    const issuedAt = Math.floor(this.#now().getTime() / 1000);
    const expiresAt = issuedAt + expiresInSeconds;
    const token = signHs256(
      { url: `${this.#bucket}/${path}`, iat: issuedAt, exp: expiresAt },
      this.#linkSecret,
    );
    const url = new URL(path, this.#publicUrl);
    url.searchParams.set("token", token);
    return { url: url.toString(), expiresAt: new Date(expiresAt * 1000) };
  }

  async get(path: string): Promise<Uint8Array> {
    assertReportPath(path);
    try {
      return new Uint8Array(await readFile(join(this.#root, path)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new ReportNotFoundError(path);
      throw new ReportStorageError(`could not read report ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

/** An HS256 JWT, the token format of Supabase Storage's signed links. */
function signHs256(claims: object, secret: string): string {
  const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const signature = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}
