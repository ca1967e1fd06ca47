import { describe, expect, it } from "vitest";
import { EmailTemplateError, renderEmail } from "../src/index.ts";

async function paymentSubject(amount: number, currency: string, locale: "ru" | "en" = "ru") {
  const email = await renderEmail({
    template: "payment_succeeded",
    locale,
    variables: { payment_id: "p-1", amount, currency },
  });
  return email.subject;
}

describe("money", () => {
  it("writes rubles the Russian way: space-grouped, decimal comma, sign after", async () => {
    // Intl groups with a no-break space and keeps the sign on the same line with another one.
    expect(await paymentSubject(4500, "RUB")).toBe("Оплата получена: 4\u00a0500,00\u00a0₽");
    expect(await paymentSubject(1234567.5, "RUB")).toBe("Оплата получена: 1\u00a0234\u00a0567,50\u00a0₽");
  });

  it("writes rubles in English with the ISO code, comma-grouped and a decimal point", async () => {
    expect(await paymentSubject(4500, "RUB", "en")).toBe("Payment received: RUB\u00a04,500.00");
  });

  it("uses each currency's own symbol and minor units", async () => {
    expect(await paymentSubject(1234.5, "USD", "en")).toBe("Payment received: $1,234.50");
    expect(await paymentSubject(1234.5, "EUR")).toBe("Оплата получена: 1\u00a0234,50\u00a0€");
    // The yen has no minor unit.
    expect(await paymentSubject(1500, "JPY", "en")).toBe("Payment received: ¥1,500");
  });

  it("shows the amount in the failed-payment email too", async () => {
    const email = await renderEmail({
      template: "payment_failed",
      locale: "en",
      variables: { payment_id: "p-1", amount: 990.9, currency: "EUR", failure_reason: "Card declined" },
    });
    expect(email.subject).toBe("Payment failed: €990.90");
    expect(email.text).toContain("Amount: €990.90");
    expect(email.text).toContain("Reason: Card declined");
  });

  it.each([
    [
      "a lower-case currency code",
      { amount: 100, currency: "rub" },
      "currency",
      "must be an upper-case ISO 4217",
    ],
    ["an amount in a string", { amount: "100", currency: "RUB" }, "amount", "must be a number"],
    ["a negative amount", { amount: -1, currency: "RUB" }, "amount", "must not be negative"],
  ])("rejects %s", async (_case, money, variable, problem) => {
    const rendering = renderEmail({
      template: "payment_succeeded",
      variables: { payment_id: "p-1", ...money } as never,
    });
    await expect(rendering).rejects.toBeInstanceOf(EmailTemplateError);
    await expect(rendering).rejects.toThrow(`variable "${variable}" ${problem}`);
  });
});
