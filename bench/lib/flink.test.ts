import { describe, expect, it } from "vitest";
import { generateEvent, nexmarkConfig } from "../../connectors/nexmark/index.ts";
import { checkDump, GeneratorMismatch } from "./flink.ts";

const config = nexmarkConfig({ seed: 3 });
/** A dump as the contract describes it: split by split, each in count order. */
const dump = (events: number, p: number, shape: "nested" | "flat" = "nested") => {
  const lines: string[] = [];
  for (let k = 0; k < p; k++) {
    for (let n = k; n < events; n += p) {
      const event = generateEvent(n, config);
      lines.push(JSON.stringify(shape === "nested" ? { split: k, count: n, event } : { split: k, count: n, ...event }));
    }
  }
  return `${lines.join("\n")}\n`;
};

describe("generator check of the Flink dump", () => {
  it("accepts Weir's own events on interleaved splits, the event nested or inline", () => {
    expect(checkDump(dump(300, 2), { events: 300, seed: 3, parallelism: 2 })).toMatch(/300\/300 events equal on 2 interleaved splits/);
    expect(checkDump(dump(300, 3, "flat"), { events: 300, seed: 3, parallelism: 3 })).toMatch(/300\/300/);
  });

  it("fails loudly on a wrong event, a wrong layout, a missing event or garbage", () => {
    const opts = { events: 100, seed: 3, parallelism: 2 };
    const good = dump(100, 2).trimEnd().split("\n");
    const bad = good.map((l, i) => (i === 7 ? l.replace(/"price":\d+/, '"price":1') : l));
    expect(() => checkDump(bad.join("\n"), opts)).toThrow(GeneratorMismatch);
    expect(() => checkDump(dump(100, 2), { ...opts, seed: 4 })).toThrow(/generator mismatch at count 0/);
    expect(() => checkDump(dump(100, 4), opts)).toThrow(/is in split/);
    expect(() => checkDump(good.slice(1).join("\n"), opts)).toThrow(/printed 99 events/);
    expect(() => checkDump([...good.slice(0, 99), "{oops"].join("\n"), opts)).toThrow(/not JSON/);
    expect(() => checkDump([good[1]!, good[0]!, ...good.slice(2)].join("\n"), opts)).toThrow(/not in count order/);
  });
});
