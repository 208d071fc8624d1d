/**
 * CPU time of another process (the broker's JVM), sampled from /proc for bench/kafka.ts so the
 * broker's share of a run's steady window is reported next to the run's own.
 *
 *   const sampler = sampleCpu(broker.pid, 100);
 *   ... run ...
 *   const samples = sampler.stop();   // [{ t: epoch ms, count: CPU ms }], for lib/kafka-steady.ts's countAt
 *
 * Linux only: elsewhere, or once the process is gone, no samples are taken. utime and stime are
 * in clock ticks of USER_HZ, 100 per second on Linux for every architecture Node supports.
 */
import { readFileSync } from "node:fs";
import type { Sample } from "./lib/kafka-steady.ts";

const TICKS_PER_SECOND = 100;

/** User + system CPU ms of `pid` so far, or undefined if /proc cannot tell. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces), from field 3 (state) on.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? ((utime + stime) * 1000) / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** The epoch-ms clock every sample of bench/kafka.ts uses (comparable across its processes). */
export const epochNow = (): number => performance.timeOrigin + performance.now();

export function sampleCpu(pid: number, everyMs: number): { stop(): Sample[] } {
  const samples: Sample[] = [];
  const take = () => {
    const ms = processCpuMs(pid);
    if (ms !== undefined) samples.push({ t: epochNow(), count: ms });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}
