import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Font } from "@react-pdf/renderer";
import { reportFontNames } from "./font-files.mjs";

/** The font family every report uses: DejaVu Sans covers Cyrillic and Latin. */
export const reportFontFamily = "DejaVu Sans";

const require = createRequire(import.meta.url);
let registered = false;

/**
 * Registers DejaVu Sans from the `dejavu-fonts-ttf` package (TTF files inside node_modules, so
 * nothing is fetched at run time). react-pdf keeps fonts in a process-wide registry: once is enough.
 */
export function registerReportFonts(): void {
  if (registered) return;
  Font.register({
    family: reportFontFamily,
    fonts: [
      { src: fontFile(reportFontNames.regular), fontWeight: "normal" },
      { src: fontFile(reportFontNames.bold), fontWeight: "bold" },
    ],
  });
  // Russian words must not be split with hyphens the English rules would invent.
  Font.registerHyphenationCallback((word) => [word]);
  registered = true;
}

/**
 * A bundle (the worker's dist/main.mjs) has the fonts beside it in `fonts/` (its build copies them
 * there); from source they are in the dejavu-fonts-ttf package.
 */
function fontFile(name: string): string {
  const besideBundle = fileURLToPath(new URL(`./fonts/${name}`, import.meta.url));
  return existsSync(besideBundle) ? besideBundle : require.resolve(`dejavu-fonts-ttf/ttf/${name}`);
}

interface LoadedSource {
  data?: { _glyphs?: Record<number, unknown> } | null;
}

/**
 * Empties fontkit's glyph cache of the report fonts. Needed before every document: glyph objects
 * cached while one PDF embedded its subset break the next PDF that draws them (DejaVu builds
 * Cyrillic letters from Latin ones, e.g. "е" from "e"; after a Russian report, an English one lost
 * every such Latin letter). The parsed tables stay cached, so this costs next to nothing.
 */
export function resetReportGlyphCache(): void {
  const family = (Font.getRegisteredFonts() as Record<string, { sources?: LoadedSource[] }>)[
    reportFontFamily
  ];
  for (const source of family?.sources ?? []) {
    if (source.data?._glyphs) source.data._glyphs = {};
  }
}
