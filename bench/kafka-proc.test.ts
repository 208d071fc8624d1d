import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { epochNow, processCpuMs, sampleCpu } from "./kafka-proc.ts";

describe("processCpuMs", () => {
  it("reads this process's CPU time from /proc, in whole ticks", () => {
    const own = process.cpuUsage();
    const ms = processCpuMs(process.pid);
    expect(ms).toBeDefined();
    expect(ms! % 10).toBe(0); // 100 ticks per second
    // At least what Node reported just before, less a tick of truncation for each of utime and stime.
    expect(ms!).toBeGreaterThanOrEqual((own.user + own.system) / 1000 - 20);
  });

  it("is undefined for a process that does not exist", () => {
    const beyond = Number(readFileSync("/proc/sys/kernel/pid_max", "utf8")) + 1;
    expect(processCpuMs(beyond)).toBeUndefined();
  });
});

describe("sampleCpu", () => {
  it("takes a sample at start and at stop, on the epoch clock", () => {
    const before = epochNow();
    const samples = sampleCpu(process.pid, 60_000).stop();
    expect(samples.length).toBe(2);
    expect(samples[0]!.t).toBeGreaterThanOrEqual(before);
    expect(samples[1]!.count).toBeGreaterThanOrEqual(samples[0]!.count);
    expect(Math.abs(epochNow() - Date.now())).toBeLessThan(1_000);
  });
});
