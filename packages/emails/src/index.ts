// The public surface of @balansity/emails. Browser-safe: nothing reachable from here imports
// node:*, pg or nodemailer (test/browser-bundle.test.ts builds it for the browser to prove it).

export {
  EmailTemplateError,
  type EmailTemplateErrorCode,
  type EmailTemplateIssue,
} from "./email-template-error.ts";
export {
  defaultEmailLocale,
  defaultEmailTimeZone,
  type RenderEmailInput,
  type RenderedEmail,
  renderEmail,
} from "./render-email.ts";
export {
  type EmailLocale,
  type EmailTemplateName,
  type EmailTemplateVariables,
  emailLocales,
  emailTemplateNames,
  emailTemplateVariableSchemas,
  isEmailLocale,
  isEmailTemplateName,
  type ParsedEmailTemplateVariables,
} from "./template-catalog.ts";
export { emailTemplateExamples } from "./template-examples.ts";
export { characterCount, textLimits } from "./text-limits.ts";
