import { type DestinationStream, type Logger, pino } from "pino";
import type { WorkerConfig } from "../config/worker-config.ts";
import { redactSecrets } from "./redact-secrets.ts";

/**
 * The worker's logger: one JSON object a line in production (what log collectors read), readable
 * coloured lines for people under `pnpm dev` (LOG_FORMAT=pretty). Secrets are removed either way.
 * pino-pretty is loaded only when asked for, so the production bundle never carries it.
 */
export async function createLogger(
  config: Pick<WorkerConfig, "logLevel" | "logFormat">,
  /** Where JSON lines go (stdout when not given): tests read them. */
  destination?: DestinationStream,
): Promise<Logger> {
  const options = {
    level: config.logLevel,
    base: { service: "balansity-worker" },
    // Every logged object at any depth, errors included (see redact-secrets.ts).
    formatters: {
      log: (object: Record<string, unknown>) => redactSecrets(object) as Record<string, unknown>,
    },
  };
  if (config.logFormat === "json") return destination ? pino(options, destination) : pino(options);
  let pretty: typeof import("pino-pretty");
  try {
    pretty = (await import("pino-pretty")).default;
  } catch {
    // The production bundle and image carry no pino-pretty: say so once and keep the JSON format.
    const logger = pino(options);
    logger.warn("LOG_FORMAT=pretty needs pino-pretty (a development dependency): logging JSON");
    return logger;
  }
  return pino(
    options,
    pretty({ colorize: process.stdout.isTTY ?? false, sync: true, ignore: "pid,hostname,service" }),
  );
}
