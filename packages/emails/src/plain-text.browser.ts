import { plainTextSelectors } from "@react-email/render";
import { compile } from "html-to-text";

/**
 * An email's html → its plain-text part, in a browser (the console's previews): html-to-text with the
 * selectors render(…, { plainText: true }) uses, compiled once (its `convert` rebuilds the selector
 * tree on every call). Headings stay as written: html-to-text upper-cases them by default, and a
 * Russian heading in capitals reads as shouting.
 */
export const toPlainText: (html: string) => string = compile({
  wordwrap: false,
  selectors: [...plainTextSelectors, { selector: "h1", options: { uppercase: false } }],
});
