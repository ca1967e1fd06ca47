import type { EmailLocale } from "./template-catalog.ts";

/**
 * Dates, times and money as the recipient reads them: in their language and their time zone.
 * Every time carries the zone's name, because the recipient may not be where they think the
 * consultant is.
 */
export interface EmailFormatter {
  /** ru: `25 ноября 2026 г., 15:00 (Москва)`; en: `November 25, 2026, 3:00 PM (Moscow Time)`. */
  dateTime(instant: string): string;
  /** ru: `25 ноября 2026 г., 15:00–16:00 (Москва)`; without an end, the same as `dateTime`. */
  dateTimeRange(start: string, end?: string | null): string;
  /** ru: `15:00 (Москва)`; en: `3:00 PM (Moscow Time)`. */
  time(instant: string): string;
  /** ru: `1 500,00 ₽`; en: `RUB 1,500.00`. */
  money(amount: number, currency: string): string;
}

/** The regional variant whose conventions each language follows. */
const intlLocale: Record<EmailLocale, string> = { ru: "ru-RU", en: "en-US" };

const dateParts = { day: "numeric", month: "long", year: "numeric" } as const;
const timeParts = { hour: "numeric", minute: "2-digit" } as const;

/**
 * Throws a `RangeError` when `timeZone` is not an IANA time zone (see `isValidTimeZone`).
 *
 * ### Examples
 *
 * ```ts
 * const format = createEmailFormatter("ru", "Europe/Moscow");
 * format.dateTime("2026-11-25T12:00:00Z"); // "25 ноября 2026 г., 15:00 (Москва)"
 * ```
 */
export function createEmailFormatter(locale: EmailLocale, timeZone: string): EmailFormatter {
  const key = `${locale} ${timeZone}`;
  const cached = formatters.get(key);
  if (cached) return cached;
  const made = makeEmailFormatter(locale, timeZone);
  if (formatters.size >= MAX_CACHED_FORMATTERS) formatters.delete(formatters.keys().next().value as string);
  formatters.set(key, made);
  return made;
}

/**
 * Made formatters, by language and zone. An `Intl.DateTimeFormat` costs ~0.15 ms to make and ~1 µs to
 * use, and an email needs four: the worker renders thousands of emails for a handful of zones.
 * Bounded (oldest out), as zones come from users' profiles.
 */
const formatters = new Map<string, EmailFormatter>();
const MAX_CACHED_FORMATTERS = 256;

function makeEmailFormatter(locale: EmailLocale, timeZone: string): EmailFormatter {
  const tag = intlLocale[locale];
  const date = new Intl.DateTimeFormat(tag, { timeZone, ...dateParts });
  const time = new Intl.DateTimeFormat(tag, { timeZone, ...timeParts });
  const dateAndTime = new Intl.DateTimeFormat(tag, { timeZone, ...dateParts, ...timeParts });
  const zoneName = new Intl.DateTimeFormat(tag, { timeZone, timeZoneName: "shortGeneric" });
  // Currencies are ISO codes the payment rows carry: a few, never user text.
  const money = new Map<string, Intl.NumberFormat>();

  // Read at the instant itself: a zone's rules (and so its name) change over the years.
  const zoneOf = (instant: Date) =>
    zoneName.formatToParts(instant).find((part) => part.type === "timeZoneName")?.value ?? timeZone;

  const dateTime = (instant: string) => {
    const at = new Date(instant);
    return `${date.format(at)}, ${time.format(at)} (${zoneOf(at)})`;
  };

  return {
    dateTime,
    dateTimeRange(start, end) {
      if (!end) return dateTime(start);
      const from = new Date(start);
      return `${dateAndTime.formatRange(from, new Date(end))} (${zoneOf(from)})`;
    },
    time(instant) {
      const at = new Date(instant);
      return `${time.format(at)} (${zoneOf(at)})`;
    },
    money(amount, currency) {
      let format = money.get(currency);
      if (!format) {
        format = new Intl.NumberFormat(tag, { style: "currency", currency });
        money.set(currency, format);
      }
      return format.format(amount);
    },
  };
}

/** True for names the runtime's time zone database knows (`Europe/Moscow`, `UTC`). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone });
    return true;
  } catch {
    return false;
  }
}
