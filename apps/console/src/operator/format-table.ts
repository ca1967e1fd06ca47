/** A column of {@link formatTable}: its heading and how to show a row's value. */
export interface Column<R> {
  readonly heading: string;
  readonly value: (row: R) => string;
  /** Numbers read best right-aligned. */
  readonly align?: "left" | "right";
}

/**
 * Rows as an aligned plain-text table (a heading line, then one line per row), for people; `--json`
 * is for scripts. Lines end without trailing spaces.
 */
export function formatTable<R>(rows: readonly R[], columns: readonly Column<R>[]): string[] {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, index) =>
    Math.max(column.heading.length, ...cells.map((line) => (line[index] ?? "").length)),
  );
  const render = (line: readonly string[]) =>
    line
      .map((cell, index) =>
        columns[index]?.align === "right"
          ? cell.padStart(widths[index] ?? 0)
          : cell.padEnd(widths[index] ?? 0),
      )
      .join("  ")
      .trimEnd();
  return [render(columns.map((column) => column.heading)), ...cells.map(render)];
}

/** A time as people read it in a terminal: `2026-11-28 23:41:07Z`; `-` for none. */
export function formatTime(value: Date | null | undefined): string {
  return value ? `${value.toISOString().slice(0, 19).replace("T", " ")}Z` : "-";
}

/** Seconds as `42s`, `7m 5s`, `3h 2m`, `2d 4h`; `-` for none. */
export function formatAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "-";
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 86_400)}d ${Math.floor((seconds % 86_400) / 3600)}h`;
}

/** A JSON value on one line, cut to `max` characters with an ellipsis. */
export function formatJson(value: unknown, max = 80): string {
  const text = JSON.stringify(value) ?? "null";
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
