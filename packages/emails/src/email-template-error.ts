/** Why a template could not be rendered. Stable: callers branch on it. */
export type EmailTemplateErrorCode = "unknown_template" | "invalid_variables" | "invalid_options";

/** One thing wrong with the input: a variable (`starts_at`) or an option (`locale`, `timezone`). */
export interface EmailTemplateIssue {
  readonly field: string;
  /** Reads after the field name: `is required`, `must be an http(s) URL`. */
  readonly problem: string;
}

/**
 * Thrown (as a rejected promise) by `renderEmail` when the input cannot produce an email.
 * Retrying will not help: the message that asked for this email is wrong, so a worker sends it
 * to the dead-letter queue at once.
 *
 * - `unknown_template`: `template` is not one of `emailTemplateNames`.
 * - `invalid_variables`: a variable is missing or invalid; `issues` lists every one of them.
 * - `invalid_options`: `locale` is not supported or `timezone` is not an IANA time zone.
 *
 * ### Examples
 *
 * ```ts
 * try {
 *   await renderEmail({ template: "report_ready", variables: {} as never });
 * } catch (error) {
 *   if (error instanceof EmailTemplateError && error.code === "invalid_variables") {
 *     console.log(error.message);
 *     // template "report_ready": variable "assessment_id" is required; variable "report_url" is required
 *   }
 * }
 * ```
 */
export class EmailTemplateError extends Error {
  override readonly name = "EmailTemplateError";
  readonly code: EmailTemplateErrorCode;
  readonly template: string;
  readonly issues: readonly EmailTemplateIssue[];

  constructor(code: EmailTemplateErrorCode, template: string, issues: readonly EmailTemplateIssue[]) {
    super(describe(code, template, issues));
    this.code = code;
    this.template = template;
    this.issues = Object.freeze([...issues]);
  }
}

function describe(code: EmailTemplateErrorCode, template: string, issues: readonly EmailTemplateIssue[]) {
  const prefix = `template ${JSON.stringify(template)}`;
  switch (code) {
    case "unknown_template":
      return `${prefix}: ${issues[0]?.problem ?? "is not a known email template"}`;
    case "invalid_variables":
      return `${prefix}: ${issues.map(describeVariableIssue).join("; ")}`;
    case "invalid_options":
      return `${prefix}: ${issues.map((issue) => `${issue.field} ${issue.problem}`).join("; ")}`;
  }
}

/** An empty field means the issue is about `variables` as a whole (not an object, for instance). */
function describeVariableIssue(issue: EmailTemplateIssue) {
  return issue.field === ""
    ? `variables ${issue.problem}`
    : `variable ${JSON.stringify(issue.field)} ${issue.problem}`;
}
