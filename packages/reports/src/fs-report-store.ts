import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ReportNotFoundError, ReportStorageError } from "./report-errors.ts";
import { assertReportPath, type ReportStore, type SignedReportUrl } from "./report-store.ts";

export interface FsReportStoreOptions {
  /** Folder the reports are written under (created when missing). */
  readonly root: string;
  /** Base of the links in emails, e.g. `http://127.0.0.1:3000/reports/`; the path is appended. */
  readonly publicUrl: string;
  readonly now?: () => Date;
}

/**
 * Reports as files under a folder: for development and tests. Writes go to a temporary file first
 * and are renamed into place, so a reader never sees half a PDF. The "signed" link is the public
 * URL plus the path; nothing signs it, which is why this store is for development only.
 */
export class FsReportStore implements ReportStore {
  readonly kind = "fs";
  readonly #root: string;
  readonly #publicUrl: URL;
  readonly #now: () => Date;

  constructor(options: FsReportStoreOptions) {
    this.#root = options.root;
    this.#publicUrl = new URL(options.publicUrl.endsWith("/") ? options.publicUrl : `${options.publicUrl}/`);
    this.#now = options.now ?? (() => new Date());
  }

  async put(path: string, body: Uint8Array, _contentType: string): Promise<void> {
    assertReportPath(path);
    const target = join(this.#root, path);
    const temporary = `${target}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(temporary, body);
      await rename(temporary, target);
    } catch (error) {
      throw new ReportStorageError(`could not write report ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async signedUrl(path: string, expiresInSeconds: number): Promise<SignedReportUrl> {
    assertReportPath(path);
    return {
      url: new URL(path, this.#publicUrl).toString(),
      expiresAt: new Date(this.#now().getTime() + expiresInSeconds * 1000),
    };
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
