// Where renderEmail's CPU goes (the biggest part of the email worker's), and a prototype of a cheaper
// variant: render the React tree once and make the text from that html, instead of rendering it twice
// (once for html, once more for text). Also checks that the variant gives byte-identical html and text
// for every template in both languages. A measurement aid for bench/RESULTS.md; the worker does not use it.
//
//   cd bench && node --import tsx support/profile-render-parts.ts [--count 500]
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import {
  render,
  toPlainText,
} from "../../packages/emails/node_modules/@react-email/render/dist/node/index.mjs";
import { renderEmail } from "../../packages/emails/src/index.ts";
import { createEmailFormatter } from "../../packages/emails/src/intl-format.ts";
import {
  type EmailTemplateName,
  emailTemplateVariableSchemas,
} from "../../packages/emails/src/template-catalog.ts";
import { emailTemplateExamples } from "../../packages/emails/src/template-examples.ts";
import { emailTemplates } from "../../packages/emails/src/template-registry.ts";
import { loadPerCpu } from "./quiet-machine.ts";

const { values } = parseArgs({ options: { count: { type: "string", default: "500" } } });
const count = Number(values.count);

/** The text options renderEmail passes today. */
const textOptions = { selectors: [{ selector: "h1", options: { uppercase: false } }] };

/** The proposed renderTemplate body: one React render, text from its html. */
async function renderOnce(
  name: EmailTemplateName,
  variables: unknown,
  locale: "ru" | "en",
  timezone: string,
) {
  const parsed = emailTemplateVariableSchemas[name].parse(variables);
  const body = emailTemplates[name].body as (
    variables: unknown,
    context: unknown,
  ) => Parameters<typeof render>[0];
  const html = await render(body(parsed, { locale, format: createEmailFormatter(locale, timezone) }));
  return { html, text: toPlainText(html, textOptions) };
}

async function time(label: string, work: () => unknown): Promise<void> {
  for (let index = 0; index < 50; index += 1) await work();
  const cpu = process.cpuUsage();
  for (let index = 0; index < count; index += 1) await work();
  const used = process.cpuUsage(cpu);
  console.log(
    `${label.padEnd(56)} ${((used.user + used.system) / 1000 / count).toFixed(3)} ms CPU per email`,
  );
}

const variables = () => ({
  assessment_id: randomUUID(),
  assessment_title: "Баланс жизни",
  user_name: "Анна",
});
const context = () => ({ locale: "ru" as const, format: createEmailFormatter("ru", "Europe/Moscow") });
const template = emailTemplates.checkup_completed;
const sampleHtml = await render(template.body(variables(), context()));

console.log(`checkup_completed, ru; ${count} calls each; load per CPU ${loadPerCpu().toFixed(2)}`);
await time("renderEmail as today (html render + text render)", () =>
  renderEmail({
    template: "checkup_completed",
    locale: "ru",
    timezone: "Europe/Moscow",
    variables: variables(),
  }),
);
await time("  render(element) → html", () => render(template.body(variables(), context())));
await time("  render(element, { plainText }) → text", () =>
  render(template.body(variables(), context()), { plainText: true, htmlToTextOptions: textOptions }),
);
await time("  toPlainText(html) (html-to-text alone)", () => toPlainText(sampleHtml, textOptions));
await time("  createEmailFormatter (4 × Intl.DateTimeFormat)", () =>
  createEmailFormatter("ru", "Europe/Moscow"),
);
await time("proposed: render once + toPlainText(html)", () =>
  renderOnce("checkup_completed", variables(), "ru", "Europe/Moscow"),
);

let same = 0;
const pairs: string[] = [];
for (const name of Object.keys(emailTemplateExamples) as EmailTemplateName[]) {
  for (const locale of ["ru", "en"] as const) {
    const example = emailTemplateExamples[name];
    const today = await renderEmail({
      template: name,
      locale,
      timezone: "Europe/Moscow",
      variables: example,
    });
    const proposed = await renderOnce(name, example, locale, "Europe/Moscow");
    if (proposed.html === today.html && proposed.text === today.text) same += 1;
    pairs.push(`${name}/${locale}`);
  }
}
console.log(
  `proposed output byte-identical to renderEmail's (html and text): ${same} of ${pairs.length} template × language pairs`,
);
