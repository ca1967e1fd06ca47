import type { ReactElement } from "react";
import type { EmailAttachmentRef } from "./email-attachment.ts";
import type { EmailFormatter } from "./intl-format.ts";
import type { EmailLocale } from "./template-catalog.ts";

/** What a template knows besides its variables. */
export interface EmailContext {
  readonly locale: EmailLocale;
  readonly format: EmailFormatter;
  /** The recipient's unsubscribe link (reminders only); the layout's footer shows it when set. */
  readonly unsubscribeUrl?: string | undefined;
}

/** One email: its subject line and its body, both from the same validated variables. */
export interface EmailTemplate<TVariables> {
  subject(variables: TVariables, context: EmailContext): string;
  body(variables: TVariables, context: EmailContext): ReactElement;
  /** Files the email carries (fetched by the sender from where they are stored). */
  attachments?(variables: TVariables): readonly EmailAttachmentRef[];
}
