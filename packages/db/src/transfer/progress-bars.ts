import cliProgress from "cli-progress";

/** Progress of one table's copy. */
export interface TableProgressBar {
  advance(rows: number): void;
  finish(): void;
}

export interface ProgressBars {
  table(name: string, total: number, alreadyCopied: number): TableProgressBar;
  stop(): void;
}

/**
 * A bar per table on a terminal (cli-progress, redrawn in place); on anything else (a CI log, a
 * file) one line when a table starts and one when it ends, so logs stay readable.
 */
export function createProgressBars(stream: NodeJS.WriteStream): ProgressBars {
  if (!stream.isTTY) {
    return {
      table(name, total, alreadyCopied) {
        stream.write(
          `copying ${name}: ${total} rows in the source${alreadyCopied > 0 ? `, resuming after ${alreadyCopied} copied earlier` : ""}\n`,
        );
        let done = 0;
        return {
          advance(rows) {
            done += rows;
          },
          finish() {
            stream.write(`copied ${name}: ${done} rows read\n`);
          },
        };
      },
      stop() {},
    };
  }
  const bars = new cliProgress.MultiBar(
    {
      stream,
      format: " {table} [{bar}] {value}/{total} rows ({percentage}%) {eta_formatted}",
      hideCursor: true,
      clearOnComplete: false,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    table(name, total, alreadyCopied) {
      const bar = bars.create(Math.max(total, 1), Math.min(alreadyCopied, total), { table: name });
      return {
        advance(rows) {
          bar.increment(rows);
        },
        finish() {
          bar.update(Math.max(total, 1));
        },
      };
    },
    stop() {
      bars.stop();
    },
  };
}
