// Where renderEmail's CPU goes (the largest part of the email worker's), piece by piece, and what the
// lean prototype (lean-render-email.ts: one React render, compiled html-to-text, kept formatters)
// costs instead. Also checks that the prototype's html and text are byte-identical to renderEmail's
// for every template, both languages and a few time zones. A measurement aid for bench/RESULTS.md.
//
//   cd bench && NODE_ENV=production node --import tsx support/profile-render-parts.ts [--count 500]
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import {
  render,
  toPlainText,
} from "../../packages/emails/node_modules/@react-email/render/dist/node/index.mjs";
import { renderEmail } from "../../packages/emails/src/index.ts";
import { createEmailFormatter, isValidTimeZone } from "../../packages/emails/src/intl-format.ts";
import type { EmailTemplateName } from "../../packages/emails/src/template-catalog.ts";
import { emailTemplateExamples } from "../../packages/emails/src/template-examples.ts";
import { emailTemplates } from "../../packages/emails/src/template-registry.ts";
import { htmlToTextBesideRender } from "./html-to-text-path.ts";
import { renderEmail as leanRenderEmail } from "./lean-render-email.ts";
import { loadPerCpu } from "./quiet-machine.ts";

const { values } = parseArgs({ options: { count: { type: "string", default: "500" } } });
const count = Number(values.count);

/** The text options renderEmail passes today. */
const textOptions = { selectors: [{ selector: "h1", options: { uppercase: false } }] };
const { compile } = createRequire(import.meta.url)(htmlToTextBesideRender()) as {
  compile(options: unknown): (html: string) => string;
};

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
const context = () => ({ locale: "ru" as const, format: createEmailFormatter("ru", "Europe/Moscow") });
const template = emailTemplates.checkup_completed;
const sampleHtml = await render(template.body(variables(0), context()));
const compiled = compile({
  wordwrap: false,
  selectors: [{ selector: "img", format: "skip" }, ...textOptions.selectors],
});

console.log(
  `checkup_completed, ru; ${count} calls each; NODE_ENV=${process.env.NODE_ENV ?? "(unset)"}; load per CPU ${loadPerCpu().toFixed(2)}\n`,
);
console.log("| step | CPU ms per email |\n| --- | ---: |");
await time("renderEmail as committed (html render + a second render for text)", (i) => renderEmail(input(i)));
await time("— render(element) → html", (i) => render(template.body(variables(i), context())));
await time("— render(element, { plainText }) → text (render + convert)", (i) =>
  render(template.body(variables(i), context()), { plainText: true, htmlToTextOptions: textOptions }),
);
await time("— toPlainText(html): html-to-text convert, selectors built per call", () =>
  toPlainText(sampleHtml, textOptions),
);
await time("— html-to-text compiled once, per call", () => compiled(sampleHtml));
await time("— createEmailFormatter (4 × Intl.DateTimeFormat)", () =>
  createEmailFormatter("ru", "Europe/Moscow"),
);
await time("— isValidTimeZone (1 × Intl.DateTimeFormat)", () => isValidTimeZone("Europe/Moscow"));
await time("lean prototype (one render, compiled html-to-text, kept formatters)", (i) =>
  leanRenderEmail(input(i)),
);

let same = 0;
let total = 0;
for (const name of Object.keys(emailTemplateExamples) as EmailTemplateName[]) {
  for (const locale of ["ru", "en"] as const) {
    for (const timezone of ["Europe/Moscow", "Asia/Vladivostok", "America/New_York"]) {
      const example = emailTemplateExamples[name];
      const today = await renderEmail({ template: name, locale, timezone, variables: example });
      const lean = await leanRenderEmail({ template: name, locale, timezone, variables: example });
      total += 1;
      if (lean.subject === today.subject && lean.html === today.html && lean.text === today.text) same += 1;
      else console.log(`differs: ${name} ${locale} ${timezone}`);
    }
  }
}
console.log(
  `\nlean output byte-identical to renderEmail's (subject, html, text): ${same} of ${total} template × language × zone cases`,
);
