// PROTOTYPE: `node --import tsx --import <this file> src/main.ts` runs the worker with its
// `@balansity/emails` import (in email-processor.ts only) resolved to lean-emails.ts. The worker's
// source stays untouched. Used by email-pipeline.ts --render lean.
import { register } from "node:module";

const hooks = `
const shim = ${JSON.stringify(new URL("./lean-emails.ts", import.meta.url).href)};
export async function resolve(specifier, context, nextResolve) {
  if (specifier === "@balansity/emails" && context.parentURL?.endsWith("/apps/worker/src/processors/email-processor.ts")) {
    return nextResolve(shim, context); // through tsx's resolver, so tsx also loads it as TypeScript
  }
  return nextResolve(specifier, context);
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
