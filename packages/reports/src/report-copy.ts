import type { CheckupKind, ResultLevel } from "./results-contract.ts";

export const reportLocales = ["ru", "en"] as const;
export type ReportLocale = (typeof reportLocales)[number];

/** Every word the PDF shows, per language. */
export interface ReportCopy {
  readonly documentTitle: string;
  readonly brandTagline: string;
  readonly kinds: Record<CheckupKind, string>;
  readonly preparedFor: string;
  readonly checkup: string;
  readonly completedOn: string;
  readonly overall: string;
  readonly levels: Record<ResultLevel, string>;
  readonly overallSummary: Record<ResultLevel, string>;
  readonly byCategory: string;
  readonly interpretation: string;
  readonly scales: Record<string, string>;
  /** One sentence per scale and band. */
  readonly interpretations: Record<string, Record<ResultLevel, string>>;
  /** Said in place of the scores in a report of a checkup without any. */
  readonly noScores: string;
  readonly disclaimer: string;
  readonly page: (page: number, total: number) => string;
}

const ru: ReportCopy = {
  documentTitle: "Отчёт по чекапу",
  brandTagline: "Баланс жизни и здоровья",
  kinds: { wellbeing: "Самочувствие", stress: "Стресс", sleep: "Сон" },
  preparedFor: "Для",
  checkup: "Чекап",
  completedOn: "Пройден",
  overall: "Общий результат",
  levels: { low: "низкий", moderate: "средний", high: "высокий" },
  overallSummary: {
    low: "Сейчас многое даётся с трудом. Стоит уделить себе внимание и обсудить результаты со специалистом.",
    moderate: "Есть и опоры, и зоны роста. Ниже — что можно улучшить в первую очередь.",
    high: "Хороший результат: у вас крепкие опоры. Поддерживайте то, что работает.",
  },
  byCategory: "Результаты по категориям",
  interpretation: "Что это значит",
  scales: {
    energy: "Энергия",
    sleep: "Сон",
    mood: "Настроение",
    calmness: "Спокойствие",
    resilience: "Устойчивость",
    recovery: "Восстановление",
    duration: "Продолжительность",
    quality: "Качество",
    regularity: "Режим",
  },
  interpretations: {
    energy: {
      low: "Сил мало: проверьте сон, питание и нагрузку, добавьте короткие перерывы.",
      moderate: "Энергии хватает не всегда: заметьте, что её забирает, а что восполняет.",
      high: "Энергии достаточно для повседневных задач.",
    },
    sleep: {
      low: "Сон не восстанавливает: стоит разобраться с режимом и условиями сна.",
      moderate: "Сон в целом в порядке, но есть что улучшить.",
      high: "Сон хорошо восстанавливает силы.",
    },
    mood: {
      low: "Настроение часто снижено: поговорите об этом со специалистом.",
      moderate: "Настроение неустойчиво: обращайте внимание на то, что его поддерживает.",
      high: "Настроение ровное и устойчивое.",
    },
    calmness: {
      low: "Напряжение высокое: нужны регулярные паузы и способы расслабиться.",
      moderate: "Напряжение временами мешает: попробуйте дыхательные практики.",
      high: "Вы сохраняете спокойствие в большинстве ситуаций.",
    },
    resilience: {
      low: "Трудности выбивают из колеи: опора на близких и специалиста поможет.",
      moderate: "С трудностями вы справляетесь, но это стоит сил.",
      high: "Вы хорошо справляетесь с трудностями.",
    },
    recovery: {
      low: "Восстановиться после нагрузки сложно: запланируйте настоящий отдых.",
      moderate: "Восстановление идёт, но медленнее, чем хотелось бы.",
      high: "Вы быстро восстанавливаетесь после нагрузки.",
    },
    duration: {
      low: "Сна не хватает: большинству взрослых нужно 7–9 часов.",
      moderate: "Сна почти достаточно: добавьте полчаса, если получится.",
      high: "Сна достаточно.",
    },
    quality: {
      low: "Сон прерывистый или поверхностный: проверьте свет, шум и вечерние привычки.",
      moderate: "Качество сна среднее: помогут спокойные вечера без экранов.",
      high: "Сон глубокий и спокойный.",
    },
    regularity: {
      low: "Режим сбит: ложитесь и вставайте в одно и то же время.",
      moderate: "Режим почти стабилен: сохраняйте его и в выходные.",
      high: "Режим сна стабилен.",
    },
  },
  noScores:
    "В этом отчёте нет баллов: для этого вида чекапа оценка ответов не рассчитывается. Ваши ответы сохранены — обсудите их со специалистом Balansity.",
  disclaimer:
    "Отчёт основан на ваших ответах и не является медицинским заключением. Обсудить результаты можно на консультации в Balansity.",
  page: (page, total) => `Страница ${page} из ${total}`,
};

const en: ReportCopy = {
  documentTitle: "Checkup report",
  brandTagline: "Balance in life and health",
  kinds: { wellbeing: "Wellbeing", stress: "Stress", sleep: "Sleep" },
  preparedFor: "For",
  checkup: "Checkup",
  completedOn: "Completed",
  overall: "Overall result",
  levels: { low: "low", moderate: "moderate", high: "high" },
  overallSummary: {
    low: "Many things are hard right now. Take care of yourself and talk the results over with a specialist.",
    moderate: "You have strengths and room to grow. Below is what to improve first.",
    high: "A good result: your foundations are strong. Keep up what works.",
  },
  byCategory: "Results by category",
  interpretation: "What it means",
  scales: {
    energy: "Energy",
    sleep: "Sleep",
    mood: "Mood",
    calmness: "Calmness",
    resilience: "Resilience",
    recovery: "Recovery",
    duration: "Duration",
    quality: "Quality",
    regularity: "Regularity",
  },
  interpretations: {
    energy: {
      low: "Energy is low: look at sleep, food and workload, and add short breaks.",
      moderate: "Energy is not always enough: notice what drains it and what restores it.",
      high: "You have enough energy for everyday tasks.",
    },
    sleep: {
      low: "Sleep does not restore you: look at your schedule and sleeping conditions.",
      moderate: "Sleep is mostly fine, with room to improve.",
      high: "Sleep restores you well.",
    },
    mood: {
      low: "Mood is often low: talk about it with a specialist.",
      moderate: "Mood varies: pay attention to what supports it.",
      high: "Mood is even and stable.",
    },
    calmness: {
      low: "Tension is high: regular pauses and ways to relax are needed.",
      moderate: "Tension gets in the way at times: try breathing exercises.",
      high: "You stay calm in most situations.",
    },
    resilience: {
      low: "Difficulties knock you off course: lean on people close to you and a specialist.",
      moderate: "You cope with difficulties, but it costs effort.",
      high: "You handle difficulties well.",
    },
    recovery: {
      low: "Recovering after strain is hard: plan real rest.",
      moderate: "You recover, but more slowly than you would like.",
      high: "You recover quickly after strain.",
    },
    duration: {
      low: "You do not sleep enough: most adults need 7–9 hours.",
      moderate: "Sleep is almost enough: add half an hour if you can.",
      high: "You sleep enough.",
    },
    quality: {
      low: "Sleep is broken or light: check light, noise and evening habits.",
      moderate: "Sleep quality is average: calm, screen-free evenings help.",
      high: "Sleep is deep and calm.",
    },
    regularity: {
      low: "Your sleep schedule is irregular: go to bed and get up at the same time.",
      moderate: "Your schedule is almost steady: keep it at weekends too.",
      high: "Your sleep schedule is steady.",
    },
  },
  noScores:
    "This report has no scores: answers to this kind of checkup are not scored. Your answers are saved; talk them through with a Balansity specialist.",
  disclaimer:
    "This report is based on your answers and is not a medical diagnosis. You can discuss the results in a Balansity consultation.",
  page: (page, total) => `Page ${page} of ${total}`,
};

export const reportCopy: Record<ReportLocale, ReportCopy> = { ru, en };

/** The date a checkup was completed, in the user's language and time zone, e.g. "25 ноября 2026 г.". */
export function formatCompletionDate(date: Date, locale: ReportLocale, timeZone: string): string {
  return dateFormat(locale === "ru" ? "ru-RU" : "en-GB", timeZone, { dateStyle: "long" }).format(date);
}

/** The calendar date (YYYY-MM-DD) in the user's zone, for file names. */
export function isoDateIn(date: Date, timeZone: string): string {
  return dateFormat("en-CA", timeZone, { year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
}

/**
 * Made formats, by tag, zone and options. An `Intl.DateTimeFormat` costs ~0.15 ms to make and ~1 µs to
 * use; every report needs two, for a handful of zones. Bounded (oldest out), as zones come from users'
 * profiles.
 */
const dateFormats = new Map<string, Intl.DateTimeFormat>();
const MAX_CACHED_FORMATS = 256;

function dateFormat(tag: string, timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${tag} ${timeZone} ${JSON.stringify(options)}`;
  let format = dateFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(tag, { ...options, timeZone });
    if (dateFormats.size >= MAX_CACHED_FORMATS) dateFormats.delete(dateFormats.keys().next().value as string);
    dateFormats.set(key, format);
  }
  return format;
}
