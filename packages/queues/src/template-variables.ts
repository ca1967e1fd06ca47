import { emailTemplateVariableSchemas, isEmailTemplateName } from "@balansity/emails/catalog";
import { type FieldIssue, readableIssueMessages, toFieldIssues } from "./field-issues.ts";

/**
 * Checks an email message's `variables` against its template's schema (from `@balansity/emails/catalog`).
 * Issues are under `variables.<name>`. Nothing is reported when the template is unknown or the
 * variables are not an object: the message schema reports those.
 *
 * `unknown: "refuse"` also reports variables the template does not declare (producers: a typo would
 * otherwise become a silent blank in the email); consumers accept them, as the renderer does.
 */
export function checkTemplateVariables(
  template: unknown,
  variables: unknown,
  options: { readonly unknown: "refuse" | "accept" },
): FieldIssue[] {
  if (typeof template !== "string" || !isEmailTemplateName(template)) return [];
  if (typeof variables !== "object" || variables === null || Array.isArray(variables)) return [];
  const schema = emailTemplateVariableSchemas[template];
  const result = schema.safeParse(variables, { error: readableIssueMessages });
  const fields = result.success ? [] : toFieldIssues(result.error.issues, ["variables"]);
  if (options.unknown === "refuse") {
    const known = Object.keys(schema.shape);
    for (const name of Object.keys(variables)) {
      if (!known.includes(name)) {
        fields.push({
          path: `variables.${name}`,
          message: `is not a variable of template ${template} (expected one of ${known.join(", ")})`,
        });
      }
    }
  }
  return fields;
}
