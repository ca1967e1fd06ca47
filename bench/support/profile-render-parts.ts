// Where renderEmail's CPU goes (the largest part of the email worker's), piece by piece: the whole call,
// then its parts as packages/emails/src/render-email.ts does them (one React render to html, the text
// from that html with an html-to-text converter compiled once, the formatters made once per locale and
// time zone). A measurement aid for bench/RESULTS.md.
//
//   cd bench && NODE_ENV=production node --import tsx support/profile-render-parts.ts [--count 500]
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import {
  plainTextSelectors,
  render,
} from "../../packages/emails/node_modules/@react-email/render/dist/node/index.mjs";
import { renderEmail } from "../../packages/emails/src/index.ts";
import { createEmailFormatter, isValidTimeZone } from "../../packages/emails/src/intl-format.ts";
import { emailTemplates } from "../../packages/emails/src/template-registry.ts";
import { loadPerCpu } from "./quiet-machine.ts";

const { values } = parseArgs({ options: { count: { type: "string", default: "500" } } });
const count = Number(values.count);

// html-to-text as @balansity/emails depends on it (pnpm keeps it out of reach of a plain import from bench/).
const { compile } = createRequire(new URL("../../packages/emails/package.json", import.meta.url))(
  "html-to-text",
) as { compile(options: unknown): (html: string) => string };

async function time(label: string, work: (index: number) => unknown): Promise<number> {
  for (let index = 0; index < 50; index += 1) await work(index);
  const cpu = process.cpuUsage();
  for (let index = 0; index < count; index += 1) await work(index);
  const used = process.cpuUsage(cpu);
  const perCall = (used.user + used.system) / 1000 / count;
  console.log(`| ${label} | ${perCall.toFixed(3)} |`);
  return perCall;
}

const variables = (index: number) => ({
  assessment_id: `9b2f6c1e-0d4a-4a8e-9a51-${String(index).padStart(12, "0")}`,
  assessment_title: "Баланс жизни",
  user_name: "Анна",
});
const input = (index: number) => ({
  template: "checkup_completed" as const,
  locale: "ru" as const,
  timezone: "Europe/Moscow",
  variables: variables(index),
});
const format = createEmailFormatter("ru", "Europe/Moscow");
const context = () => ({ locale: "ru" as const, format });
const template = emailTemplates.checkup_completed;
const sampleHtml = await render(template.body(variables(0), context()));
// The options render-email.ts compiles its converter with.
const toPlainText = compile({
  wordwrap: false,
  selectors: [...plainTextSelectors, { selector: "h1", options: { uppercase: false } }],
});

console.log(
  `checkup_completed, ru; ${count} calls each; NODE_ENV=${process.env.NODE_ENV ?? "(unset)"}; load per CPU ${loadPerCpu().toFixed(2)}\n`,
);
console.log("| step | CPU ms per email |\n| --- | ---: |");
await time("renderEmail (packages/emails)", (i) => renderEmail(input(i)));
await time("— template.body(…): the React element", (i) => template.body(variables(i), context()));
await time("— render(element) → html", (i) => render(template.body(variables(i), context())));
await time("— html → text (html-to-text compiled once, as renderEmail)", () => toPlainText(sampleHtml));
await time("— createEmailFormatter (once per locale and zone in renderEmail)", () =>
  createEmailFormatter("ru", "Europe/Moscow"),
);
await time("— isValidTimeZone (1 × Intl.DateTimeFormat)", () => isValidTimeZone("Europe/Moscow"));
