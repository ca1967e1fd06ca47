// PROTOTYPE: @balansity/emails with renderEmail swapped for the lean copy (lean-render-email.ts).
// An explicit export wins over the same name from `export *`.
export * from "../../packages/emails/src/index.ts";
export { renderEmail } from "./lean-render-email.ts";
