import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { renderReportPdf } from "./src/render-report-pdf.ts";

const base = {
  assessment: {
    id: "x",
    kind: "wellbeing",
    title: "Общее самочувствие",
    results: { score: 72, level: "high", scales: { energy: 64, sleep: 80, mood: 71 } },
    completedAt: new Date(),
  },
  userName: "Анна Иванова",
  locale: "ru" as const,
  timezone: "Europe/Moscow",
};
const order = process.argv.slice(2);
for (const [i, loc] of order.entries()) {
  const r = await renderReportPdf({ ...base, locale: loc as "ru" | "en" });
  writeFileSync(`/tmp/rpdf/o${i}.pdf`, r.body);
  console.log(
    i,
    loc,
    execFileSync("pdftotext", [`/tmp/rpdf/o${i}.pdf`, "-"])
      .toString()
      .split("\n")
      .join(" ")
      .replace(/\s+/g, " ")
      .slice(0, 200),
  );
}
