import type { EmailTemplateName, EmailTemplateVariables } from "./template-catalog.ts";

/**
 * A realistic set of variables for every template: for previews (the ops console), documentation
 * and tests. Every optional variable is filled in, so a preview shows the whole email.
 */
export const emailTemplateExamples: { readonly [K in EmailTemplateName]: EmailTemplateVariables<K> } =
  Object.freeze({
    checkup_completed: {
      user_name: "Анна",
      assessment_id: "9b2f6c1e-0d4a-4a8e-9a51-3f1c2b7d8e90",
      assessment_title: "Баланс жизни",
      completed_at: "2026-11-24T09:30:00Z",
      results_url: "https://app.balansity.ru/checkups/9b2f6c1e",
      app_url: "https://app.balansity.ru",
    },
    report_ready: {
      user_name: "Анна",
      assessment_id: "9b2f6c1e-0d4a-4a8e-9a51-3f1c2b7d8e90",
      assessment_title: "Баланс жизни",
      report_url: "https://app.balansity.ru/reports/9b2f6c1e.pdf",
      expires_at: "2026-12-01T09:30:00Z",
      attachment: {
        file_name: "balansity-wellbeing-2026-11-24.pdf",
        content_type: "application/pdf",
        storage_path: "9b2f6c1e-user/9b2f6c1e-0d4a-4a8e-9a51-3f1c2b7d8e90/report.pdf",
        size_bytes: 24817,
      },
      app_url: "https://app.balansity.ru",
    },
    appointment_confirmation: {
      user_name: "Анна",
      appointment_id: "apt-1024",
      starts_at: "2026-11-25T12:00:00Z",
      ends_at: "2026-11-25T13:00:00Z",
      consultant_name: "Мария Иванова",
      meeting_url: "https://meet.balansity.ru/apt-1024",
      manage_url: "https://app.balansity.ru/appointments/apt-1024",
      app_url: "https://app.balansity.ru",
    },
    appointment_reminder_24h: {
      user_name: "Анна",
      appointment_id: "apt-1024",
      starts_at: "2026-11-25T12:00:00Z",
      ends_at: "2026-11-25T13:00:00Z",
      consultant_name: "Мария Иванова",
      meeting_url: "https://meet.balansity.ru/apt-1024",
      manage_url: "https://app.balansity.ru/appointments/apt-1024",
      app_url: "https://app.balansity.ru",
    },
    appointment_reminder_1h: {
      user_name: "Анна",
      appointment_id: "apt-1024",
      starts_at: "2026-11-25T12:00:00Z",
      ends_at: "2026-11-25T13:00:00Z",
      consultant_name: "Мария Иванова",
      meeting_url: "https://meet.balansity.ru/apt-1024",
      manage_url: "https://app.balansity.ru/appointments/apt-1024",
      app_url: "https://app.balansity.ru",
    },
    payment_succeeded: {
      user_name: "Анна",
      payment_id: "pay-7781",
      amount: 4500,
      currency: "RUB",
      description: "Консультация 25 ноября",
      paid_at: "2026-11-20T07:15:00Z",
      receipt_url: "https://pay.balansity.ru/receipts/pay-7781",
      app_url: "https://app.balansity.ru",
    },
    payment_failed: {
      user_name: "Анна",
      payment_id: "pay-7782",
      amount: 4500,
      currency: "RUB",
      description: "Консультация 25 ноября",
      failure_reason: "Недостаточно средств на карте",
      retry_url: "https://app.balansity.ru/payments/pay-7782/retry",
      app_url: "https://app.balansity.ru",
    },
  });
