import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The text of a PDF as poppler's pdftotext reads it (Debian's poppler-utils). */
export async function pdfText(pdf: Uint8Array): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "smoke-pdf-"));
  try {
    const file = join(dir, "report.pdf");
    await writeFile(file, pdf);
    return (await run("pdftotext", ["-layout", file, "-"])).stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
