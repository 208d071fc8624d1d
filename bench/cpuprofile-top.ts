/**
 * Self time per function of a V8 CPU profile (`node --cpu-prof`), highest first: what the
 * performance notes quote.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof bin/weir.mjs run jobs/nexmark/q5.ts --param events=1000000 --param sink=discard
 *   npx tsx bench/cpuprofile-top.ts /tmp/prof/<largest>.cpuprofile [rows]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

const [file, rows = "25"] = process.argv.slice(2);
if (file === undefined) throw new Error("usage: cpuprofile-top.ts <file.cpuprofile> [rows]");
const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const total = profile.timeDeltas.reduce((a, b) => a + b, 0);
const self = new Map<string, number>();
profile.samples.forEach((id, i) => {
  const f = byId.get(id)!.callFrame;
  const name = `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber}`;
  self.set(name, (self.get(name) ?? 0) + profile.timeDeltas[i]!);
});
for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(rows))) {
  console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`);
}
