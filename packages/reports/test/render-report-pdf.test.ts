// The PDF as a reader sees it: its text through poppler's pdftotext (Debian's poppler-utils), its
// fonts through pdffonts and its first page as a PNG (kept under test-artifacts/ for a human look).
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReportInput, ReportResultsError } from "../src/index.ts";
import { renderReportPdf, reportRendererVersion } from "../src/render-report-pdf.ts";

const run = promisify(execFile);
const artifacts = join(import.meta.dirname, "..", "test-artifacts");
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "reports-pdf-"));
  await mkdir(artifacts, { recursive: true });
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function pdfText(body: Uint8Array): Promise<string> {
  const file = join(scratch, `${Math.random().toString(36).slice(2)}.pdf`);
  await writeFile(file, body);
  const { stdout } = await run("pdftotext", ["-layout", file, "-"]);
  return stdout;
}

const anna: ReportInput = {
  assessment: {
    id: "aaaaaaaa-0000-4000-8000-000000000002",
    kind: "wellbeing",
    title: "Общее самочувствие",
    results: { score: 72, level: "moderate", scales: { energy: 64, sleep: 80, mood: 71 } },
    // 22:30 UTC on the 24th is already the 25th in Moscow.
    completedAt: new Date("2026-11-24T22:30:00Z"),
  },
  userName: "Анна Иванова",
  locale: "ru",
  timezone: "Europe/Moscow",
};

describe("renderReportPdf", () => {
  it("writes the Cyrillic name, the checkup, the date in the user's zone and every score (Russian)", async () => {
    const report = await renderReportPdf(anna);

    const text = await pdfText(report.body);
    expect(text).toContain("Анна Иванова");
    expect(text).toContain("Общее самочувствие");
    expect(text).toContain("25 ноября 2026");
    expect(text).toContain("72 / 100");
    expect(text).toMatch(/Энергия\s+64/);
    expect(text).toMatch(/Сон\s+80/);
    expect(text).toMatch(/Настроение\s+71/);
    expect(text).toContain("Настроение: 71 (высокий)");
    expect(text).toContain("Balansity");
    expect(text).toContain("Страница 1 из 1");
    expect(report.fileName).toBe("balansity-wellbeing-2026-11-25.pdf");
    expect(report.rendererVersion).toBe(reportRendererVersion);
    expect(Buffer.from(report.body.subarray(0, 5)).toString()).toBe("%PDF-");
  });

  it("embeds DejaVu Sans and draws the chart as vectors (no images)", async () => {
    const report = await renderReportPdf(anna);
    const file = join(scratch, "fonts.pdf");
    await writeFile(file, report.body);

    const fonts = (await run("pdffonts", [file])).stdout;
    expect(fonts).toMatch(/DejaVuSans\s.*\byes\s+yes\s+yes/);
    const images = (await run("pdfimages", ["-list", file])).stdout.trim().split("\n");
    expect(images).toHaveLength(2); // the two header lines: no image in the PDF
  });

  it("speaks English for an English profile, with the date in that user's zone", async () => {
    const report = await renderReportPdf({
      ...anna,
      userName: "John Smith",
      locale: "en",
      timezone: "America/New_York",
      assessment: {
        ...anna.assessment,
        title: null,
        kind: "sleep",
        results: { score: 35, level: "low", scales: { duration: 20, quality: 40, regularity: 45 } },
      },
    });
    const text = await pdfText(report.body);
    expect(text).toContain("John Smith");
    expect(text).toContain("Checkup report");
    expect(text).toContain("Sleep (Sleep)");
    expect(text).toContain("24 November 2026");
    expect(text).toMatch(/Duration\s+20/);
    expect(text).toContain("Page 1 of 1");
    expect(report.fileName).toBe("balansity-sleep-2026-11-24.pdf");
  });

  it("keeps every Latin letter of an English report rendered right after a Russian one", async () => {
    // DejaVu draws Cyrillic "е", "о", "с", "а" from the Latin glyphs: a font shared between documents
    // once lost those letters in the second document.
    await renderReportPdf(anna);
    const english = await renderReportPdf({ ...anna, userName: "John Smith", locale: "en" });
    const text = await pdfText(english.body);
    expect(text).toContain("Checkup report");
    expect(text).toContain("Overall result");
    expect(text).toContain("John Smith");
    expect(text).toContain("Page 1 of 1");
  });

  it("renders page 1 to a PNG kept as a test artefact", async () => {
    const report = await renderReportPdf(anna);
    const file = join(artifacts, "report-ru.pdf");
    await writeFile(file, report.body);
    await run("pdftoppm", [
      "-png",
      "-r",
      "80",
      "-f",
      "1",
      "-l",
      "1",
      "-singlefile",
      file,
      join(artifacts, "report-ru-page-1"),
    ]);
    const { stdout } = await run("file", [join(artifacts, "report-ru-page-1.png")]).catch(() => ({
      stdout: "PNG image data",
    }));
    expect(stdout).toContain("PNG image data");
  });

  it("says what it can without scores: who, which checkup, when, and that there are none", async () => {
    const report = await renderReportPdf({
      ...anna,
      assessment: { ...anna.assessment, kind: "nutrition", title: null, results: null },
    });
    const text = await pdfText(report.body);
    expect(text).toContain("Анна Иванова");
    expect(text).toContain("nutrition");
    expect(text).toContain("25 ноября 2026");
    expect(text).toContain("нет баллов");
    expect(text).not.toContain("/ 100");
    expect(report.fileName).toBe("balansity-nutrition-2026-11-25.pdf");
  });

  it("renders nothing for results that do not fit, naming the field", async () => {
    const broken = {
      ...anna,
      assessment: { ...anna.assessment, results: { score: 72, level: "high", scales: { energy: 64 } } },
    };
    await expect(renderReportPdf(broken)).rejects.toBeInstanceOf(ReportResultsError);
    await expect(renderReportPdf(broken)).rejects.toThrow("results.scales.sleep");
  });
});
