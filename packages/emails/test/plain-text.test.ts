import { describe, expect, it } from "vitest";
import { emailLocales, emailTemplateExamples, emailTemplateNames, renderEmail } from "../src/index.ts";
import { toPlainText as inBrowser } from "../src/plain-text.browser.ts";
import { toPlainText as onServer } from "../src/plain-text.node.ts";

// The worker and the console's previews make the text part with different converters (react-email's
// fast one is not in its browser build); an email must read the same in both.
describe("the plain-text part", () => {
  for (const template of emailTemplateNames) {
    for (const locale of emailLocales) {
      it(`of ${template} (${locale}) is the same on the server and in a browser`, async () => {
        const { html, text } = await renderEmail({
          template,
          locale,
          variables: emailTemplateExamples[template],
        });
        expect(text).toBe(onServer(html));
        expect(onServer(html)).toBe(inBrowser(html));
        expect(text).not.toMatch(/<[a-z]/i);
      });
    }
  }
});
