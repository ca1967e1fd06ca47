// PROTOTYPE: @balansity/emails with renderEmail swapped for the one-pass copy (one-pass-render-email.ts).
// An explicit export wins over the same name from `export *`.
export * from "../../packages/emails/src/index.ts";
export { renderEmail } from "./one-pass-render-email.ts";
