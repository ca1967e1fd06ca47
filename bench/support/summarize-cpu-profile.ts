// Reads a V8 .cpuprofile (node --cpu-prof) and prints where the self time went, grouped by package
// (node_modules/<name>) or by our workspace folder, and the top functions. A measurement aid for
// bench/RESULTS.md.
//
//   cd bench && node --import tsx support/summarize-cpu-profile.ts <file.cpuprofile> [--top 25]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** `react-dom`, `@react-email/render`, `apps/worker`, `(gc)`, `node:internal` … */
function groupOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const modules = url.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const workspace = /\/work\/main\/((?:apps|packages|bench)\/[^/]+)\//.exec(url);
  if (workspace?.[1]) return workspace[1];
  if (url.startsWith("node:")) return url.split("/").slice(0, 2).join("/");
  return url;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "25" } },
});
const file = positionals[0];
if (!file) throw new Error("usage: summarize-cpu-profile.ts <file.cpuprofile> [--top 25]");
const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfMicros = new Map<number, number>();
profile.samples.forEach((id, index) => {
  selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
});
const total = [...selfMicros.values()].reduce((sum, value) => sum + value, 0);
const idle = [...selfMicros]
  .filter(([id]) => byId.get(id)?.callFrame.functionName === "(idle)")
  .reduce((s, [, v]) => s + v, 0);
const busy = total - idle;

const groups = new Map<string, number>();
const functions = new Map<string, number>();
for (const [id, micros] of selfMicros) {
  const node = byId.get(id);
  if (!node || node.callFrame.functionName === "(idle)") continue;
  const group = groupOf(node);
  groups.set(group, (groups.get(group) ?? 0) + micros);
  const name = `${node.callFrame.functionName || "(anonymous)"} ${group}:${node.callFrame.lineNumber + 1}`;
  functions.set(name, (functions.get(name) ?? 0) + micros);
}
const percent = (micros: number) => `${((100 * micros) / busy).toFixed(1).padStart(5)} %`;
const top = Number(values.top);
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (not idle)`);
console.log("\nself time by package / folder (share of busy time):");
for (const [group, micros] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`  ${percent(micros)}  ${group}`);
console.log("\nself time by function:");
for (const [name, micros] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`  ${percent(micros)}  ${name}`);
