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
});
