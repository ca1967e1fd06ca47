import type { ReactElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";

/** The doctype react-email's render() puts in front of every email. */
const XHTML_DOCTYPE =
  '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">';

/**
 * A template's element → the email's HTML: react-email's `render()` output without React's streaming
 * markers (`<!--$-->`, `<!--html-->`, `<!-- -->`), which mean nothing in an email. Synchronous:
 * `render()` streams through web streams and a MessageChannel for components that suspend, and our
 * templates never do; that machinery cost about 1 ms of CPU per email, eight times the rendering
 * itself. test/render-html.test.ts holds every template and locale to `render()`'s output.
 */
export function renderHtml(element: ReactElement): string {
  return XHTML_DOCTYPE + renderToStaticMarkup(element).replace(/^<!DOCTYPE[^>]*>/i, "");
}
