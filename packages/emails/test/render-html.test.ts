import { render } from "@react-email/render";
import { describe, expect, it } from "vitest";
import { createEmailFormatter } from "../src/intl-format.ts";
import { renderHtml } from "../src/render-html.ts";
import { emailLocales, emailTemplateNames, emailTemplateVariableSchemas } from "../src/template-catalog.ts";
import { emailTemplateExamples } from "../src/template-examples.ts";
import { emailTemplates } from "../src/template-registry.ts";

/** React's streaming markers: `<!--$-->`, `<!--/$-->`, `<!--html-->`, `<!--head-->`, `<!-- -->`. */
const reactStreamingMarker = /<!--(?:\$|\/\$|html|head|body| )-->/g;

// renderHtml renders synchronously instead of through react-email's streaming render(); the email
// must stay the same, byte for byte, apart from the markers that streaming adds.
describe("renderHtml", () => {
  for (const name of emailTemplateNames) {
    for (const locale of emailLocales) {
      it(`renders ${name} (${locale}) as react-email's render() does, without streaming markers`, async () => {
        const variables = emailTemplateVariableSchemas[name].parse(emailTemplateExamples[name]);
        const context = { locale, format: createEmailFormatter(locale, "Europe/Moscow") };
        const element = emailTemplates[name].body(variables as never, context);

        const html = renderHtml(element);
        const streamed = await render(element);

        expect(html.startsWith('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"')).toBe(true);
        expect(html).not.toMatch(new RegExp(reactStreamingMarker.source));
        expect(html).toBe(streamed.replace(reactStreamingMarker, ""));
      });
    }
  }
});
