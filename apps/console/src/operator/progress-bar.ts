/** Where a progress bar draws: standard error, and only when it is a terminal. */
export interface ProgressStream {
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
  write(text: string): unknown;
}

export interface ProgressBar {
  /** Sets how many of the total are done and redraws. */
  update(done: number): void;
  /** Ends the line the bar was drawn on. */
  finish(): void;
}

/**
 * `[#########---------]  4,500 / 10,000 dead letters retried` redrawn in place on `stream`. When the
 * stream is not a terminal (a pipe, a log file, CI) it draws nothing, so scripts read clean output.
 */
export function createProgressBar(stream: ProgressStream, total: number, label: string): ProgressBar {
  if (!stream.isTTY || total <= 0) return { update() {}, finish() {} };
  const number = new Intl.NumberFormat("en-US");
  const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 40 - label.length));
  let drawn = false;
  return {
    update(done) {
      const filled = Math.round((Math.min(done, total) / total) * width);
      stream.write(
        `\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${number.format(done)} / ${number.format(total)} ${label}`,
      );
      drawn = true;
    },
    finish() {
      if (drawn) stream.write("\n");
    },
  };
}
