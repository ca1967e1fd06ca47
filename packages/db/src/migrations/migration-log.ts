/** Where the migration runner reports progress; `console` and pino loggers both fit. */
export interface MigrationLog {
  info(message: string): void;
  warn(message: string): void;
}

/** Reports nothing. */
export const silentLog: MigrationLog = { info() {}, warn() {} };
