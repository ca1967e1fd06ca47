// A Markdown table from rows of cells (numbers right-aligned).

export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const numeric = header.map((_, column) =>
    rows.every((row) => typeof row[column] === "number" || /^[\d.,–~≥<>× %/-]+$/.test(String(row[column]))),
  );
  const lines = [
    `| ${header.join(" | ")} |`,
    `| ${numeric.map((right) => (right ? "---:" : "---")).join(" | ")} |`,
    ...rows.map((row) => `| ${row.map(String).join(" | ")} |`),
  ];
  return lines.join("\n");
}
