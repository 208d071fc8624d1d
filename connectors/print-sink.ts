/**
 * Prints each record as one JSON line to standard output, prefixed with the subtask number
 * (`2> {...}`) when the sink runs with parallelism > 1, as Flink's print sink does.
 * Not transactional: a restarted job prints again what came after its last checkpoint.
 */
import type { Sink, SinkWriter } from "./sink.ts";

export interface PrintOptions {
  /** Where lines go (default: process.stdout). */
  readonly write?: (text: string) => void;
  readonly name?: string;
}

export const print = <T>(options: PrintOptions = {}): Sink<T, never> => ({
  name: options.name ?? "print",
  createWriter(context): SinkWriter<T, never> {
    const write = options.write ?? ((text: string) => void process.stdout.write(text));
    const prefix = context.parallelism > 1 ? `${context.subtask + 1}> ` : "";
    return {
      write(records) {
        let text = "";
        for (const r of records) text += `${prefix}${JSON.stringify(r)}\n`;
        write(text);
      },
      preCommit: async () => [],
      commit: async () => undefined,
      close: async () => undefined,
    };
  },
});
