/**
 * `WEIR_METRICS_FILE=<path>`: a run samples its source-record counter every 50 ms and, when the
 * job ends (finished or stopped), writes the samples and totals to <path> as JSON — what
 * benchmark harnesses read to compute steady-state throughput — with the keyed-state cache's
 * counters (`stateCache`: hits, misses, evictions, evictionWrites; summed over the operator
 * subtasks). Unset: nothing happens.
 */
import { writeFileSync } from "node:fs";
import type { JobMetrics } from "../metrics.ts";

export interface MetricsRecorder {
  finish(): void;
}

export const recordMetrics = (path: string | undefined, metrics: JobMetrics): MetricsRecorder | undefined => {
  if (path === undefined || path === "") return undefined;
  const samples: [number, number][] = [[Date.now(), metrics.sourceRecords]];
  const timer = setInterval(() => samples.push([Date.now(), metrics.sourceRecords]), 50);
  timer.unref();
  return {
    finish() {
      clearInterval(timer);
      samples.push([Date.now(), metrics.sourceRecords]);
      const body = {
        sourceRecords: metrics.sourceRecords,
        sinkRecords: metrics.sinkRecords,
        sourceSkipped: metrics.sourceSkipped,
        sourceDeadLettered: metrics.sourceDeadLettered,
        checkpointsCompleted: metrics.checkpointsCompleted,
        stateCache: { ...metrics.stateCache },
        samples,
      };
      writeFileSync(path, JSON.stringify(body));
    },
  };
};
