/**
 * The fenced blocks of a Markdown guide that a test runs: ```sh test=<name> blocks (shell commands,
 * run in order), the one ```sh env block (the `export NAME=value` lines a reader fills in and a test
 * replaces with local stand-ins) and ```dotenv blocks (an env file's `NAME=value` lines).
 */
export interface GuideBlock {
  /** The info string after the fence, e.g. `sh test=migrate`. */
  readonly info: string;
  readonly body: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
}

/** Every fenced block, indented ones included (inside list items), with its indentation removed. */
export function fencedBlocks(markdown: string): GuideBlock[] {
  const blocks: GuideBlock[] = [];
  const lines = markdown.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)```(\S.*)?$/.exec(lines[index]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let end = index + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!)) body.push(lines[end++]!.slice(indent));
    blocks.push({ info: (open[2] ?? "").trim(), body: body.join("\n"), line: index + 1 });
    index = end;
  }
  return blocks;
}

/** The ```sh test=<name> blocks in order, by name. */
export function testedShellBlocks(markdown: string): Array<GuideBlock & { name: string }> {
  return fencedBlocks(markdown).flatMap((block) => {
    const match = /^sh\s+test=([\w-]+)$/.exec(block.info);
    return match ? [{ ...block, name: match[1]! }] : [];
  });
}

/** Names assigned by `export NAME=…` lines (or `NAME=value` lines of a dotenv block), in order. */
export function assignedNames(body: string): string[] {
  return body
    .split("\n")
    .map((line) => /^(?:export\s+)?([A-Z][A-Z0-9_]*)=/.exec(line.trim())?.[1])
    .filter((name): name is string => name !== undefined);
}

/** `$NAME` and `${NAME}` references in shell text, upper-case names only, deduplicated. */
export function referencedNames(body: string): string[] {
  return [...new Set([...body.matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)].map((match) => match[1]!))];
}
