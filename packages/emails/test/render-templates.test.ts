import { describe, expect, it } from "vitest";
import {
  type EmailLocale,
  type EmailTemplateName,
  type EmailTemplateVariables,
  emailLocales,
  emailTemplateExamples,
  emailTemplateNames,
  type RenderEmailInput,
  renderEmail,
} from "../src/index.ts";

/**
 * Intl puts no-break and thin spaces into dates and amounts ("4 500,00 ₽", "3:00 – 4:00 PM");
 * the facts below are written with plain spaces, as a reader sees them. test/money-formatting
 * checks the exact characters.
 */
function asRead(text: string) {
  return text.replace(/[\u00a0\u2009\u202f]/g, " ");
}

/** What a reader must find in each email rendered from `emailTemplateExamples`. */
const keyFacts: Record<EmailTemplateName, Record<EmailLocale, { subject: string; body: string[] }>> = {
  checkup_completed: {
    ru: {
      subject: "Чекап «Баланс жизни» завершён",
      body: [
        "Здравствуйте, Анна!",
        "«Баланс жизни»",
        "24 ноября 2026 г., 12:30 (Москва)",
        "https://app.balansity.ru/checkups/9b2f6c1e",
        "Посмотреть результаты",
      ],
    },
    en: {
      subject: "Your “Баланс жизни” checkup is complete",
      body: [
        "Hello Анна,",
        "“Баланс жизни”",
        "November 24, 2026, 12:30 PM (Moscow Time)",
        "https://app.balansity.ru/checkups/9b2f6c1e",
        "View your results",
      ],
    },
  },
  report_ready: {
    ru: {
      subject: "Отчёт по чекапу «Баланс жизни» готов",
      body: [
        "Открыть отчёт",
        "https://app.balansity.ru/reports/9b2f6c1e.pdf",
        "Ссылка действует до 1 декабря 2026 г., 12:30 (Москва).",
      ],
    },
    en: {
      subject: "Your report for “Баланс жизни” is ready",
      body: [
        "Open the report",
        "https://app.balansity.ru/reports/9b2f6c1e.pdf",
        "The link works until December 1, 2026, 12:30 PM (Moscow Time).",
      ],
    },
  },
  appointment_confirmation: {
    ru: {
      subject: "Консультация подтверждена: 25 ноября 2026 г., 15:00 (Москва)",
      body: [
        "25 ноября 2026 г., 15:00–16:00 (Москва)",
        "Мария Иванова",
        "https://meet.balansity.ru/apt-1024",
        "Перенести или отменить запись",
        "Номер записи: apt-1024",
      ],
    },
    en: {
      subject: "Your consultation is confirmed: November 25, 2026, 3:00 PM (Moscow Time)",
      body: [
        "November 25, 2026, 3:00 – 4:00 PM (Moscow Time)",
        "Мария Иванова",
        "https://meet.balansity.ru/apt-1024",
        "Reschedule or cancel",
        "Booking ID: apt-1024",
      ],
    },
  },
  appointment_reminder_24h: {
    ru: {
      subject: "Напоминание: консультация 25 ноября 2026 г., 15:00 (Москва)",
      body: [
        "Напоминаем: ваша консультация состоится 25 ноября 2026 г., 15:00 (Москва).",
        "Мария Иванова",
        "https://meet.balansity.ru/apt-1024",
      ],
    },
    en: {
      subject: "Reminder: your consultation on November 25, 2026, 3:00 PM (Moscow Time)",
      body: [
        "your consultation is on November 25, 2026, 3:00 PM (Moscow Time).",
        "Мария Иванова",
        "https://meet.balansity.ru/apt-1024",
      ],
    },
  },
  appointment_reminder_1h: {
    ru: {
      subject: "Консультация скоро начнётся: в 15:00 (Москва)",
      body: [
        "Ваша консультация начнётся в 15:00 (Москва).",
        "Подключиться к консультации",
        "https://meet.balansity.ru/apt-1024",
      ],
    },
    en: {
      subject: "Your consultation starts soon, at 3:00 PM (Moscow Time)",
      body: [
        "Your consultation starts at 3:00 PM (Moscow Time).",
        "Join the consultation",
        "https://meet.balansity.ru/apt-1024",
      ],
    },
  },
  payment_succeeded: {
    ru: {
      subject: `Оплата получена: 4 500,00 ₽`,
      body: [
        `4 500,00 ₽`,
        "Консультация 25 ноября",
        "20 ноября 2026 г., 10:15 (Москва)",
        "Номер платежа: pay-7781",
        "https://pay.balansity.ru/receipts/pay-7781",
      ],
    },
    en: {
      subject: `Payment received: RUB 4,500.00`,
      body: [
        `RUB 4,500.00`,
        "Консультация 25 ноября",
        "November 20, 2026, 10:15 AM (Moscow Time)",
        "Payment ID: pay-7781",
        "View the receipt",
      ],
    },
  },
  payment_failed: {
    ru: {
      subject: `Оплата не прошла: 4 500,00 ₽`,
      body: [
        "Недостаточно средств на карте",
        "Номер платежа: pay-7782",
        "Оплатить ещё раз",
        "https://app.balansity.ru/payments/pay-7782/retry",
      ],
    },
    en: {
      subject: `Payment failed: RUB 4,500.00`,
      body: [
        "Недостаточно средств на карте",
        "Payment ID: pay-7782",
        "Try again",
        "https://app.balansity.ru/payments/pay-7782/retry",
      ],
    },
  },
  payment_refunded: {
    ru: {
      subject: `Возврат оформлен: 4 500,00 ₽`,
      body: ["Мы вернули ваш платёж", "21 ноября 2026 г., 12:30 (Москва)", "Номер платежа: pay-7781"],
    },
    en: {
      subject: `Refund issued: RUB 4,500.00`,
      body: [
        "We have refunded your payment",
        "November 21, 2026, 12:30 PM (Moscow Time)",
        "Payment ID: pay-7781",
      ],
    },
  },
  appointment_cancelled: {
    ru: {
      subject: `Запись отменена: 25 ноября 2026 г., 15:00 (Москва)`,
      body: ["Мария Иванова", "будет возвращена", "Номер записи: apt-1024", "Записаться снова"],
    },
    en: {
      subject: `Booking cancelled: November 25, 2026, 3:00 PM (Moscow Time)`,
      body: ["Мария Иванова", "will be refunded", "Booking ID: apt-1024", "Book again"],
    },
  },
  operator_alert: {
    ru: {
      subject: "Balansity: тревога dead_letters:email_queue_dlq",
      body: [
        "Нужна проверка оператора",
        "3 new dead letters in email_queue_dlq within 01:00:00",
        "24 ноября 2026 г., 12:30 (Москва)",
        "не чаще раза в час",
      ],
    },
    en: {
      subject: "Balansity alert: dead_letters:email_queue_dlq",
      body: [
        "An operator needs to look",
        "3 new dead letters in email_queue_dlq within 01:00:00",
        "November 24, 2026, 12:31 PM (Moscow Time)",
        "at most once an hour",
      ],
    },
  },
};

/** Only what each template requires: every optional line must drop out cleanly. */
const requiredOnly: { [K in EmailTemplateName]: EmailTemplateVariables<K> } = {
  checkup_completed: { assessment_id: "a-1" },
  report_ready: { assessment_id: "a-1", report_url: "https://app.balansity.ru/r/a-1.pdf" },
  appointment_confirmation: { appointment_id: "apt-1", starts_at: "2026-11-25T12:00:00Z" },
  appointment_reminder_24h: { appointment_id: "apt-1", starts_at: "2026-11-25T12:00:00Z" },
  appointment_reminder_1h: { appointment_id: "apt-1", starts_at: "2026-11-25T12:00:00Z" },
  payment_succeeded: { payment_id: "p-1", amount: 100, currency: "RUB" },
  payment_failed: { payment_id: "p-1", amount: 100, currency: "RUB" },
  payment_refunded: { payment_id: "p-1", amount: 100, currency: "RUB" },
  appointment_cancelled: { appointment_id: "apt-1", starts_at: "2026-11-25T12:00:00Z" },
  operator_alert: {
    condition: "no_worker",
    status: "resolved",
    summary: "no worker is running",
    since: "2026-11-25T12:00:00Z",
    checked_at: "2026-11-25T12:05:00+00:00",
  },
};

function inputFor<K extends EmailTemplateName>(
  template: K,
  locale: EmailLocale,
  variables: EmailTemplateVariables<K>,
): RenderEmailInput<K> {
  return { template, locale, variables } as RenderEmailInput<K>;
}

const cases = emailTemplateNames.flatMap((template) => emailLocales.map((locale) => ({ template, locale })));

describe("every template", () => {
  it.each(cases)(
    "renders $template in $locale with its key facts in subject, html and text",
    async ({ template, locale }) => {
      const email = await renderEmail(inputFor(template, locale, emailTemplateExamples[template]));
      const facts = keyFacts[template][locale];

      expect(asRead(email.subject)).toBe(facts.subject);
      expect(email.html).toContain(`lang="${locale}"`);
      expect(email.html).toContain("Balansity");
      expect(email.text).toContain("Balansity");
      for (const fact of facts.body) {
        expect(asRead(email.html)).toContain(fact);
        expect(asRead(email.text)).toContain(fact);
      }
    },
  );

  it.each(cases)(
    "renders $template in $locale from its required variables alone",
    async ({ template, locale }) => {
      const email = await renderEmail(inputFor(template, locale, requiredOnly[template]));

      expect(email.text).toContain(locale === "ru" ? "Здравствуйте!" : "Hello,");
      for (const rendered of [email.subject, email.html, email.text]) {
        expect(rendered).not.toMatch(/undefined|null|NaN|Invalid Date/);
      }
    },
  );
});

describe("the plain-text version", () => {
  it("is text, not markup, and keeps the heading's own case", async () => {
    const email = await renderEmail({
      template: "report_ready",
      variables: emailTemplateExamples.report_ready,
    });

    expect(email.text).not.toMatch(/<[a-z/!]/i);
    expect(email.text).toContain("Отчёт готов");
    expect(email.text).not.toContain("ОТЧЁТ ГОТОВ");
  });

  it("leaves the inbox preview line out", async () => {
    const email = await renderEmail({
      template: "report_ready",
      variables: emailTemplateExamples.report_ready,
    });
    const preview = "Ваш отчёт по чекапу «Баланс жизни» готов. Откройте его по ссылке ниже.";

    expect(email.html).toContain("data-skip-in-text");
    // Once as the body paragraph, not a second time from the hidden preview.
    expect(email.text.split(preview)).toHaveLength(2);
  });
});
