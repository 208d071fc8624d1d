/**
 * The live progress line on stderr: records in and out per second, backpressure (the share of
 * time sources waited for room downstream), and records sources dropped as bad (skipped or
 * dead-lettered), once there are any. On a TTY one line is redrawn in place; otherwise
 * a plain line is printed every `plainEveryMs`.
 */
import type { JobMetrics } from "../metrics.ts";
import { formatDuration } from "../../common/duration.ts";
import { formatBytes } from "./checkpoints-command.ts";

export interface ProgressOptions {
  readonly jobName: string;
  readonly stream: NodeJS.WriteStream;
  readonly now?: () => number;
  readonly tickMs?: number;
  readonly plainEveryMs?: number;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** "bad records: 4 skipped, 2 dead-lettered" (the non-zero parts); "" when there are none. */
export const formatDropped = (counts: { readonly skipped: number; readonly deadLettered: number }): string => {
  const parts: string[] = [];
  if (counts.skipped > 0) parts.push(`${fmt(counts.skipped)} skipped`);
  if (counts.deadLettered > 0) parts.push(`${fmt(counts.deadLettered)} dead-lettered`);
  return parts.length === 0 ? "" : `bad records: ${parts.join(", ")}`;
};

export const formatProgress = (
  jobName: string,
  elapsedMs: number,
  rates: { in: number; out: number },
  totals: { in: number; out: number; skipped?: number; deadLettered?: number },
  backpressure: number,
  checkpoint?: { readonly id: number; readonly durationMs: number; readonly bytes: number },
): string => {
  const dropped = formatDropped({ skipped: totals.skipped ?? 0, deadLettered: totals.deadLettered ?? 0 });
  return (
    `${jobName} | ${(elapsedMs / 1000).toFixed(1)}s | in ${fmt(rates.in)} rec/s (${fmt(totals.in)}) | out ${fmt(rates.out)} rec/s (${fmt(totals.out)}) | backpressure ${Math.round(backpressure * 100)}%` +
    (dropped === "" ? "" : ` | ${dropped}`) +
    (checkpoint === undefined ? "" : ` | checkpoint ${checkpoint.id} (${formatDuration(checkpoint.durationMs)}, ${formatBytes(checkpoint.bytes)})`)
  );
};

export interface ProgressReporter {
  stop(): void;
}

export const startProgress = (metrics: JobMetrics, options: ProgressOptions): ProgressReporter => {
  const now = options.now ?? Date.now;
  const tty = options.stream.isTTY === true;
  const tickMs = options.tickMs ?? (tty ? 500 : options.plainEveryMs ?? 10_000);
  let last = { at: now(), in: metrics.sourceRecords, out: metrics.sinkRecords, blocked: metrics.sourceBlockedMs };
  const line = () => {
    const t = now();
    const dt = Math.max(1, t - last.at);
    const rates = { in: ((metrics.sourceRecords - last.in) * 1000) / dt, out: ((metrics.sinkRecords - last.out) * 1000) / dt };
    const bp = Math.min(1, (metrics.sourceBlockedMs - last.blocked) / (dt * Math.max(1, metrics.sourceSubtasks)));
    last = { at: t, in: metrics.sourceRecords, out: metrics.sinkRecords, blocked: metrics.sourceBlockedMs };
    return formatProgress(options.jobName, t - metrics.startedAt, rates, { in: metrics.sourceRecords, out: metrics.sinkRecords, skipped: metrics.sourceSkipped, deadLettered: metrics.sourceDeadLettered }, bp, metrics.lastCheckpoint);
  };
  const timer = setInterval(() => {
    options.stream.write(tty ? `\r\x1b[2K${line()}` : `${line()}\n`);
  }, tickMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      if (tty) options.stream.write("\r\x1b[2K");
    },
  };
};
