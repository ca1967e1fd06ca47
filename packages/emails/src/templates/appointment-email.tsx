/** @jsxRuntime automatic @jsxImportSource react */
import type { ReactElement } from "react";
import type { EmailContext } from "../email-template.ts";
import type { EmailLocale, ParsedEmailTemplateVariables } from "../template-catalog.ts";
import { ActionButton, Details, EmailLayout, Greeting, Paragraph, SecondaryLink } from "./email-parts.tsx";

// The confirmation and both reminders describe the same appointment; only their words differ.

export type AppointmentVariables = ParsedEmailTemplateVariables<"appointment_confirmation">;

/** The words one appointment email adds to the shared body. */
export interface AppointmentCopy {
  subject: (variables: AppointmentVariables, context: EmailContext) => string;
  heading: string;
  lead: (variables: AppointmentVariables, context: EmailContext) => string;
}

const sharedCopy: Record<
  EmailLocale,
  { when: string; consultant: string; join: string; manage: string; reference: (id: string) => string }
> = {
  ru: {
    when: "Когда",
    consultant: "Консультант",
    join: "Подключиться к консультации",
    manage: "Перенести или отменить запись",
    reference: (id) => `Номер записи: ${id}`,
  },
  en: {
    when: "When",
    consultant: "Consultant",
    join: "Join the consultation",
    manage: "Reschedule or cancel",
    reference: (id) => `Booking ID: ${id}`,
  },
};

export function appointmentEmail(
  copy: AppointmentCopy,
  variables: AppointmentVariables,
  context: EmailContext,
): ReactElement {
  const shared = sharedCopy[context.locale];
  const lead = copy.lead(variables, context);
  return (
    <EmailLayout
      context={context}
      preview={lead}
      heading={copy.heading}
      reference={shared.reference(variables.appointment_id)}
      appUrl={variables.app_url}
    >
      <Greeting context={context} name={variables.user_name} />
      <Paragraph>{lead}</Paragraph>
      <Details
        rows={[
          [shared.when, context.format.dateTimeRange(variables.starts_at, variables.ends_at)],
          [shared.consultant, variables.consultant_name],
        ]}
      />
      {variables.meeting_url ? <ActionButton href={variables.meeting_url}>{shared.join}</ActionButton> : null}
      {variables.manage_url ? (
        <SecondaryLink href={variables.manage_url}>{shared.manage}</SecondaryLink>
      ) : null}
    </EmailLayout>
  );
}
