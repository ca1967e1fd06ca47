import type * as z from "zod";
import { toPlainText } from "#plain-text";
import type { EmailAttachmentRef } from "./email-attachment.ts";
import type { EmailContext, EmailTemplate } from "./email-template.ts";
import { EmailTemplateError, type EmailTemplateIssue } from "./email-template-error.ts";
import { createEmailFormatter, type EmailFormatter, isValidTimeZone } from "./intl-format.ts";
import { renderHtml } from "./render-html.ts";
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
} from "./template-catalog.ts";
import { emailTemplates } from "./template-registry.ts";

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
  /**
   * A link that turns these emails off (the sender's one-click unsubscribe URL, given for reminders):
   * the footer shows "Unsubscribe from reminders" with it. None: no such line.
   */
  readonly unsubscribeUrl?: string | undefined;
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
  /** Files to attach, by reference (only templates that carry files have it, e.g. report_ready). */
  readonly attachments?: readonly EmailAttachmentRef[];
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
  return renderTemplate(
    template,
    input.variables,
    input.unsubscribeUrl ? { ...context, unsubscribeUrl: input.unsubscribeUrl } : context,
  );
}

// Formatters (five Intl objects each) are made once per (locale, time zone): only valid pairs get
// here, so at most locales × IANA zones entries.
const formatters = new Map<string, EmailFormatter>();

function createContext(template: EmailTemplateName, locale: unknown, timezone: unknown): EmailContext {
  const cached = formatters.get(`${String(locale)} ${String(timezone)}`);
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

async function renderTemplate<K extends EmailTemplateName>(
  name: K,
  rawVariables: unknown,
  context: EmailContext,
): Promise<RenderedEmail> {
  const variables = parseVariables(name, rawVariables);
  const template: EmailTemplate<ParsedEmailTemplateVariables<K>> = emailTemplates[name];
  const element = template.body(variables, context);
  const html = renderHtml(element);
  // From the rendered html, not by rendering the React tree a second time.
  const text = toPlainText(html);
  const subject = oneLine(template.subject(variables, context));
  const attachments = template.attachments?.(variables) ?? [];
  return attachments.length > 0 ? { subject, html, text, attachments } : { subject, html, text };
}

function parseVariables<K extends EmailTemplateName>(name: K, raw: unknown): ParsedEmailTemplateVariables<K> {
  const schema: z.ZodType = emailTemplateVariableSchemas[name];
  const result = schema.safeParse(raw);
  // The schema is the one for K, so its output is K's variables; TypeScript cannot follow the lookup.
  if (result.success) return result.data as ParsedEmailTemplateVariables<K>;
  throw new EmailTemplateError(
    "invalid_variables",
    name,
    result.error.issues.map((issue) => toIssue(issue, raw)),
  );
}

function toIssue(issue: z.core.$ZodIssue, raw: unknown): EmailTemplateIssue {
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
