// Where the html-to-text that @react-email/render uses is installed (pnpm keeps it beside that package,
// out of reach of a plain import from bench/), for the lean render prototype.
import { realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export function htmlToTextBesideRender(): string {
  const renderEntry = realpathSync(
    fileURLToPath(
      new URL("../../packages/emails/node_modules/@react-email/render/dist/node/index.mjs", import.meta.url),
    ),
  );
  return createRequire(renderEntry).resolve("html-to-text");
}
