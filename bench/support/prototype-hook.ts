// PROTOTYPE loader: `node --import tsx --import <this file> src/main.ts` runs the worker with some of its
// imports resolved to prototypes in bench/support, leaving the worker's source untouched. Which ones:
// BENCH_PROTOTYPES, a JSON list of { specifier, parent, file } (parent: the importing file's path ends
// with it). Set by email-pipeline.ts for --render lean and --smtp nodelay.
import { register } from "node:module";
import { pathToFileURL } from "node:url";

interface Replacement {
  readonly specifier: string;
  readonly parent: string;
  readonly file: string;
}

const replacements = JSON.parse(process.env.BENCH_PROTOTYPES ?? "[]") as Replacement[];
const table = replacements.map(({ specifier, parent, file }) => ({
  specifier,
  parent,
  url: pathToFileURL(file).href,
}));

const hooks = `
const table = ${JSON.stringify(table)};
export async function resolve(specifier, context, nextResolve) {
  const hit = table.find((entry) => entry.specifier === specifier && context.parentURL?.endsWith(entry.parent));
  // Through the next resolver (tsx's), so tsx also loads the prototype as TypeScript.
  return nextResolve(hit ? hit.url : specifier, context);
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
