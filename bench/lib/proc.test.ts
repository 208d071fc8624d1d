import { describe, expect, it } from "vitest";
import { parseProcStat, parseVmRssBytes, sampleTree, treeOf } from "./proc.ts";

describe("/proc parsing", () => {
  it("reads pid, ppid and utime + stime + cutime + cstime, whatever the command name holds", () => {
    const line = "4242 (node (weir) x) S 17 4242 17 0 -1 4194560 2000 0 0 0 150 25 7 3 20 0 11 0 100 1000000 5000 18446744073709551615";
    expect(parseProcStat(line)).toEqual({ pid: 4242, ppid: 17, ticks: 150 + 25 + 7 + 3 });
    expect(() => parseProcStat("garbage")).toThrow(/not a \/proc/);
  });

  it("reads VmRSS in bytes; 0 without it", () => {
    expect(parseVmRssBytes("Name:\tnode\nVmHWM:\t  9000 kB\nVmRSS:\t  123456 kB\n")).toBe(123456 * 1024);
    expect(parseVmRssBytes("Name:\tzombie\n")).toBe(0);
  });

  it("a tree is the root and all its descendants, not its siblings or parent", () => {
    const parents = new Map([
      [1, 0],
      [10, 1],
      [11, 10],
      [12, 11],
      [13, 10],
      [20, 1],
    ]);
    expect(treeOf(10, parents)).toEqual([10, 11, 12, 13]);
    expect(treeOf(99, parents)).toEqual([]);
  });

  it("samples this process (a live tree)", () => {
    const s = sampleTree(process.pid);
    expect(s?.cpuSeconds).toBeGreaterThan(0);
    expect(s?.rssBytes).toBeGreaterThan(1024 * 1024);
  });
});
