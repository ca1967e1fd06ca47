import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { renderEmail } from "./render-email.ts";
import { emailLocales, emailTemplateNames, isEmailLocale, isEmailTemplateName } from "./template-catalog.ts";
import { emailTemplateExamples } from "./template-examples.ts";

// A local preview of every template in every language, rendered with the example variables.
// Development only: `pnpm --filter @balansity/emails dev` (part of `pnpm dev`).

const { values } = parseArgs({ options: { port: { type: "string", default: "54331" } } });
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

const server = createServer(async (request, response) => {
  const url = new URL(request.url ?? "/", "http://preview");
  const [, template, locale, format] = url.pathname.split("/");
  if (template && isEmailTemplateName(template) && locale && isEmailLocale(locale)) {
    const timezone = url.searchParams.get("tz") ?? "Europe/Moscow";
    try {
      const email = await renderEmail({
        template,
        locale,
        timezone,
        variables: emailTemplateExamples[template] as never,
      });
      if (format === "text")
        response.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(email.text);
      else response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(email.html);
    } catch (error) {
      response.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end(String(error));
    }
    return;
  }
  const rows = emailTemplateNames
    .map(
      (name) =>
        `<tr><td>${escapeHtml(name)}</td>${emailLocales
          .map(
            (lang) =>
              `<td><a href="/${name}/${lang}">${lang} html</a> · <a href="/${name}/${lang}/text">text</a></td>`,
          )
          .join("")}</tr>`,
    )
    .join("");
  response
    .writeHead(200, { "content-type": "text/html; charset=utf-8" })
    .end(
      `<!doctype html><meta charset="utf-8"><title>Balansity email previews</title><h1>Email previews</h1><table>${rows}</table>`,
    );
});

server.listen(Number(values.port), "127.0.0.1", () => {
  console.log(`[emails] template previews at http://127.0.0.1:${values.port}/`);
});
