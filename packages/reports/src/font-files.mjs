// The TrueType files every report embeds, from the dejavu-fonts-ttf package. Plain JavaScript so
// that the worker's bundler script (apps/worker/scripts/build.mjs) can copy them next to the bundle.
import { fileURLToPath } from "node:url";

/** File names, as copied next to a bundle (`<outdir>/fonts/<name>`). */
export const reportFontNames = Object.freeze({ regular: "DejaVuSans.ttf", bold: "DejaVuSans-Bold.ttf" });

/** Absolute paths of the font files inside node_modules. */
export function reportFontFiles() {
  return Object.values(reportFontNames).map((name) =>
    fileURLToPath(import.meta.resolve(`dejavu-fonts-ttf/ttf/${name}`)),
  );
}
