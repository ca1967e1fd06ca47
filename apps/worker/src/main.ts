import { ConfigError } from "@balansity/db";
import { buildProcessors } from "./build-processors.ts";
import { loadConfig } from "./config/load-config.ts";
import { createLogger } from "./ops/create-logger.ts";
import { startWorker } from "./worker.ts";

// The only place that reads process.env; everything else gets the frozen config.
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78); // EX_CONFIG: a supervisor should not restart-loop on this.
  }
  throw error;
}

const logger = await createLogger(config);
for (const deprecation of config.deprecations) logger.warn({ deprecation }, deprecation);

const worker = await startWorker({
  config,
  logger,
  processors: (pool) => buildProcessors({ config, pool, logger }),
});

// Ctrl-C in a terminal reaches the worker twice at once (the process group, and a watcher or supervisor
// relaying it), so only a signal a moment after the first one means "stop now".
const REPEAT_SIGNAL_MS = 500;
let firstSignalAt: number | undefined;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (firstSignalAt !== undefined && Date.now() - firstSignalAt < REPEAT_SIGNAL_MS) return;
    if (firstSignalAt !== undefined) {
      logger.warn(
        { signal },
        "second signal: exiting now; unfinished messages reappear after their visibility timeout",
      );
      process.exit(1);
    }
    firstSignalAt = Date.now();
    logger.info({ signal, deadline_ms: config.shutdownTimeoutMs }, "shutting down");
    worker.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  });
}
