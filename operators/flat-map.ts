import type { Operator } from "./operator.ts";
import { requireSync, userFunctionError } from "./user-error.ts";

/** Every output of a record has that record's timestamp. */
export const flatMapOperator = <I, O>(name: string, fn: (value: I) => Iterable<O>): Operator<I, O> => ({
  timestamps: "propagate",
  processBatch(records, out, ts) {
    const input = ts?.input;
    let i = 0;
    try {
      for (; i < records.length; i++) {
        const from = out.length;
        const produced = fn(records[i]!);
        if (Array.isArray(produced)) {
          for (let j = 0; j < produced.length; j++) out.push(produced[j] as O);
        } else {
          for (const o of requireSync(produced)) out.push(o);
        }
        if (input !== undefined) for (let j = from; j < out.length; j++) ts!.output.push(input[i]!);
      }
    } catch (e) {
      throw userFunctionError(name, records[i], i, e);
    }
  },
});
