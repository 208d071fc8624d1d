/** Accepts and drops every record (for benchmarks and tests that only count). */
import type { Sink } from "./sink.ts";

export const discard = <T>(options: { name?: string } = {}): Sink<T, never> => ({
  name: options.name ?? "discard",
  createWriter: () => ({
    write: () => undefined,
    preCommit: async () => [],
    commit: async () => undefined,
    close: async () => undefined,
  }),
  // Nothing was ever visible, so nothing to take back: restoring an older checkpoint is harmless.
  retract: async () => ({ removed: 0, checkpoints: [], location: "nowhere (discard sink)", unit: "records" }),
});
