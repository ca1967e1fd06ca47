import { unstableToPlainText } from "@react-email/render";

/**
 * An email's html → its plain-text part, on a server: react-email's own converter (what render(…,
 * { plainText: true, unstableTextConversion: true }) uses), half the CPU of html-to-text; it is not in
 * react-email's browser build, which gets ./plain-text.browser.ts instead (package.json "imports").
 * react-email calls it unstable, so test/plain-text.test.ts holds it to the browser version's text for
 * every template and locale.
 */
export function toPlainText(html: string): string {
  return unstableToPlainText(html);
}
