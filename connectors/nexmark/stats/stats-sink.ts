/**
 * The benchmark sink of the Nexmark jobs (`--param stats=PREFIX`): it keeps no output, it hands
 * each batch to the run's statistics (digest per bucket, latency), synchronously, and learns of
 * every completed checkpoint through the two-phase-commit protocol: each writer pre-commits a
 * marker `{ checkpoint: n }`, which the engine commits once checkpoint n is complete (as Flink's
 * notifyCheckpointComplete; the markers of an aborted checkpoint ride along with the next one,
 * and a checkpoint seen by several writers is counted once). The last writer to close writes
 * the statistics file (close comes after the final checkpoint's commit).
 */
import type { Sink } from "../../sink.ts";
import type { RowTiming, RunStats } from "./run-stats.ts";

export interface CheckpointMarker {
  readonly checkpoint: number;
}

export const statsSink = <O>(stats: RunStats, timing: RowTiming<O>): Sink<O, CheckpointMarker> => ({
  name: "nexmark-stats",
  createWriter: () => {
    stats.writerOpened();
    let closed = false;
    return {
      write: (records) => stats.rows(records, timing),
      preCommit: async (checkpoint) => [{ checkpoint }],
      commit: async (markers) => {
        for (const m of markers) stats.checkpointCompleted(m.checkpoint);
      },
      close: async () => {
        if (closed) return;
        closed = true;
        stats.writerClosed();
      },
    };
  },
  // Nothing is ever visible, so nothing to take back: restoring an older checkpoint is harmless.
  retract: async () => ({ removed: 0, checkpoints: [], location: "nowhere (statistics sink)", unit: "records" }),
});
