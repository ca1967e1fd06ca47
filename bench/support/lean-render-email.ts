// PROTOTYPE: a copy of packages/emails/src/render-email.ts with three changes, each marked CHANGED:
//   1. the React tree is rendered once, and the text is made from that html, instead of rendering the
//      tree a second time for the text;
//   2. that html → text conversion uses an html-to-text converter compiled once (`compile`), instead of
//      `convert`, which builds its selector decision tree (selderee) again on every call;
//   3. the formatter of a (locale, time zone) is made once and kept (4 Intl.DateTimeFormat objects),
//      and so is the check that the zone exists (a 5th one), instead of on every email.
// Loaded into the worker only by email-pipeline.ts --render lean (through prototype-hook.ts or the
// bundle's replacement), to measure the change end to end; profile-render-parts.ts checks that its
// html and text are byte-identical to renderEmail's for every template and language.
import { createRequire } from "node:module";
import {
  plainTextSelectors,
  render,
} from "../../packages/emails/node_modules/@react-email/render/dist/node/index.mjs";
import type { EmailContext, EmailTemplate } from "../../packages/emails/src/email-template.ts";
import {
  EmailTemplateError,
  type EmailTemplateIssue,
} from "../../packages/emails/src/email-template-error.ts";
import {
  createEmailFormatter,
  type EmailFormatter,
  isValidTimeZone,
} from "../../packages/emails/src/intl-format.ts";
import {
  type EmailLocale,
  type EmailTemplateName,
  type EmailTemplateVariables,
  emailLocales,
  emailTemplateNames,
  emailTemplateVariableSchemas,
  isEmailLocale,
  isEmailTemplateName,
  type ParsedEmailTemplateVariables,
} from "../../packages/emails/src/template-catalog.ts";
import { emailTemplates } from "../../packages/emails/src/template-registry.ts";
import { htmlToTextBesideRender } from "./html-to-text-path.ts";

export const defaultEmailLocale: EmailLocale = "ru";
export const defaultEmailTimeZone = "Europe/Moscow";

/**
 * What to render. With one known template name the variables are type-checked against that
 * template. With a name that is only known at run time (a plain `string`, or the
 * `EmailTemplateName` union from a parsed queue message) they are `unknown`. Either way
 * `renderEmail` validates everything at run time.
 */
export interface RenderEmailInput<T extends string = EmailTemplateName> {
  readonly template: T;
  readonly variables: RenderEmailVariables<T>;
  /** Defaults to `"ru"`. */
  readonly locale?: EmailLocale | undefined;
  /** The recipient's IANA time zone; dates and times are shown in it. Defaults to `"Europe/Moscow"`. */
  readonly timezone?: string | undefined;
}

/** `never` for a misspelt literal name, so the mistake shows at compile time. */
type RenderEmailVariables<T extends string> = string extends T
  ? unknown
  : [T] extends [EmailTemplateName]
    ? true extends IsUnion<T>
      ? unknown
      : EmailTemplateVariables<T & EmailTemplateName>
    : never;

type IsUnion<T, All = T> = T extends unknown ? ([All] extends [T] ? false : true) : never;

/** A rendered email, ready for nodemailer's `subject`, `html` and `text`. */
export interface RenderedEmail {
  /** One line: user-provided text cannot break it into several headers. */
  readonly subject: string;
  readonly html: string;
  /** The plain-text alternative, made from the same HTML. */
  readonly text: string;
}

/**
 * Renders one email in the recipient's language and time zone.
 *
 * Rejects with an `EmailTemplateError` when the template is unknown (`unknown_template`), a
 * variable is missing or invalid (`invalid_variables`, naming every one), or the locale or time
 * zone is not supported (`invalid_options`).
 *
 * ### Examples
 *
 * ```ts
 * const email = await renderEmail({
 *   template: "appointment_reminder_24h",
 *   locale: "ru",
 *   timezone: "Europe/Moscow",
 *   variables: { appointment_id: "a-42", starts_at: "2026-11-25T12:00:00Z", consultant_name: "Анна" },
 * });
 * email.subject; // "Напоминание: консультация 25 ноября 2026 г., 15:00 (Москва)"
 * ```
 */
export async function renderEmail<T extends string>(input: RenderEmailInput<T>): Promise<RenderedEmail> {
  const template: unknown = input.template;
  if (typeof template !== "string" || !isEmailTemplateName(template)) {
    throw new EmailTemplateError("unknown_template", String(template), [
      {
        field: "template",
        problem: `is not a known email template (known: ${emailTemplateNames.join(", ")})`,
      },
    ]);
  }
  const context = createContext(
    template,
    input.locale ?? defaultEmailLocale,
    input.timezone ?? defaultEmailTimeZone,
  );
  return renderTemplate(template, input.variables, context);
}

// CHANGED (3): formatters by `${locale} ${timezone}`; only valid pairs get here, so at most
// locales × IANA zones entries (about 2 × 600).
const formatters = new Map<string, EmailFormatter>();

function createContext(template: EmailTemplateName, locale: unknown, timezone: unknown): EmailContext {
  const cached =
    typeof locale === "string" && typeof timezone === "string"
      ? formatters.get(`${locale} ${timezone}`)
      : undefined;
  if (cached) return { locale: locale as EmailLocale, format: cached };
  const supportedLocale = typeof locale === "string" && isEmailLocale(locale);
  const knownTimeZone = typeof timezone === "string" && isValidTimeZone(timezone);
  if (!supportedLocale || !knownTimeZone) {
    const issues: EmailTemplateIssue[] = [];
    if (!supportedLocale) {
      const supported = emailLocales.map((l) => JSON.stringify(l)).join(" or ");
      issues.push({
        field: "locale",
        problem: `${JSON.stringify(locale)} is not supported (use ${supported})`,
      });
    }
    if (!knownTimeZone) {
      issues.push({
        field: "timezone",
        problem: `${JSON.stringify(timezone)} is not an IANA time zone (e.g. "Europe/Moscow")`,
      });
    }
    throw new EmailTemplateError("invalid_options", template, issues);
  }
  const format = createEmailFormatter(locale, timezone);
  formatters.set(`${locale} ${timezone}`, format);
  return { locale, format };
}

// CHANGED (2): html-to-text (a dependency of @react-email/render) compiled once with exactly the options
// render(…, { plainText: true, htmlToTextOptions }) passes to `convert`: wordwrap off, its own selectors,
// then ours (html-to-text upper-cases headings by default; a Russian heading in capitals reads as shouting).
// BENCH_HTML_TO_TEXT: where html-to-text is, set by email-pipeline.ts for a bundled worker (whose
// import.meta.url is the bundle's); otherwise found beside @react-email/render.
const htmlToText = createRequire(import.meta.url)(
  process.env.BENCH_HTML_TO_TEXT ?? htmlToTextBesideRender(),
) as {
  compile(options: unknown): (html: string) => string;
};
const toText = htmlToText.compile({
  wordwrap: false,
  selectors: [...plainTextSelectors, { selector: "h1", options: { uppercase: false } }],
});

async function renderTemplate<K extends EmailTemplateName>(
  name: K,
  rawVariables: unknown,
  context: EmailContext,
): Promise<RenderedEmail> {
  const variables = parseVariables(name, rawVariables);
  const template: EmailTemplate<ParsedEmailTemplateVariables<K>> = emailTemplates[name];
  const element = template.body(variables, context);
  // CHANGED (1): one render; the text comes from its html.
  const html = await render(element);
  const text = toText(html);
  return { subject: oneLine(template.subject(variables, context)), html, text };
}

function parseVariables<K extends EmailTemplateName>(name: K, raw: unknown): ParsedEmailTemplateVariables<K> {
  const schema: VariableSchema = emailTemplateVariableSchemas[name];
  const result = schema.safeParse(raw);
  // The schema is the one for K, so its output is K's variables; TypeScript cannot follow the lookup.
  if (result.success) return result.data as ParsedEmailTemplateVariables<K>;
  throw new EmailTemplateError(
    "invalid_variables",
    name,
    result.error.issues.map((issue) => toIssue(issue, raw)),
  );
}

/** What this copy needs of a zod schema (bench/ has no zod of its own to name the type with). */
interface VariableSchema {
  safeParse(
    raw: unknown,
  ): { success: true; data: unknown } | { success: false; error: { issues: readonly ZodIssueLike[] } };
}

interface ZodIssueLike {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

function toIssue(issue: ZodIssueLike, raw: unknown): EmailTemplateIssue {
  if (issue.path.length === 0) return { field: "", problem: `must be an object, got ${kindOf(raw)}` };
  const field = issue.path.map(String).join(".");
  const given = isRecord(raw) ? raw[field] : undefined;
  return { field, problem: given === undefined || given === null ? "is required" : issue.message };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

/**
 * Joins lines: a user-provided title with a line break must not split the Subject header. Only
 * breaking whitespace goes; Intl's no-break spaces ("4 500,00 ₽") stay.
 */
function oneLine(text: string) {
  return text
    .replace(/[\t\n\v\f\r\u0085\u2028\u2029]+/g, " ")
    .replace(/ {2,}/g, " ")
    .trim();
}
