// Keeps a bundle's source map to the worker's own code (no source under node_modules).
//
// Why: `node --enable-source-maps` decodes the whole map of a module the first time a stack trace
// passes through it. The bundle's map has ~1,000,000 mappings, 96% of them into dependencies (brotli's
// dictionary, react-dom, the react-pdf reconciler, zod, …); Node 20 holds each as a small array, ~100 MB
// of heap, so the first error logged with its stack drove a worker capped at --max-old-space-size=128 out
// of memory (it aborted). Stack frames in our sources are the ones worth reading; a frame inside a
// dependency still shows the bundle's line and column.
//
// A dependency's code starts a segment with the generated column only (no source), so the mapping of
// the worker's code before it does not run on over the dependency's code.

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Int8Array(128).fill(-1);
for (let index = 0; index < BASE64.length; index += 1) DIGIT[BASE64.charCodeAt(index)] = index;

/** @param {string} segment @returns {number[]} */
function decodeSegment(segment) {
  const fields = [];
  let value = 0;
  let shift = 0;
  for (let at = 0; at < segment.length; at += 1) {
    const digit = DIGIT[segment.charCodeAt(at)] ?? -1;
    if (digit < 0) throw new Error(`source map: invalid base64 VLQ character ${segment[at]}`);
    value += (digit & 31) * 2 ** shift;
    if (digit & 32) {
      shift += 5;
    } else {
      fields.push(value % 2 === 1 ? -((value - 1) / 2) : value / 2);
      value = 0;
      shift = 0;
    }
  }
  return fields;
}

/** @param {number[]} fields @returns {string} */
function encodeSegment(fields) {
  let out = "";
  for (const field of fields) {
    let value = field < 0 ? -field * 2 + 1 : field * 2;
    do {
      let digit = value & 31;
      value = Math.floor(value / 32);
      if (value > 0) digit |= 32;
      out += BASE64[digit];
    } while (value > 0);
  }
  return out;
}

/**
 * The map with every mapping into a source under node_modules dropped.
 * @param {{ sources: string[], names?: string[], mappings: string }} map
 */
export function ownCodeSourceMap(map) {
  const dependency = map.sources.map((source) => source.split(/[\\/]/).includes("node_modules"));
  // Absolute values carried across the whole file (source, line, column, name) in the input …
  const read = [0, 0, 0, 0];
  // … and in the output, whose deltas differ once segments are left out.
  const written = [0, 0, 0, 0];
  const lines = map.mappings.split(";").map((line) => {
    let column = 0;
    let writtenColumn = 0;
    let inDependency = false;
    const kept = [];
    for (const segment of line.split(",")) {
      if (segment === "") continue;
      const fields = decodeSegment(segment);
      column += fields[0];
      for (let i = 1; i < fields.length; i += 1) read[i - 1] += fields[i];
      const fromDependency = fields.length > 1 && dependency[read[0]];
      if (fromDependency || fields.length === 1) {
        if (inDependency) continue;
        inDependency = true;
        kept.push(encodeSegment([column - writtenColumn]));
        writtenColumn = column;
        continue;
      }
      inDependency = false;
      const absolute = [read[0], read[1], read[2], ...(fields.length === 5 ? [read[3]] : [])];
      const out = [column - writtenColumn, ...absolute.map((value, i) => value - written[i])];
      absolute.forEach((value, i) => {
        written[i] = value;
      });
      writtenColumn = column;
      kept.push(encodeSegment(out));
    }
    return kept.join(",");
  });
  return { ...map, mappings: lines.join(";") };
}
