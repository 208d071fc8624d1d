import type { Operator } from "./operator.ts";
import { requireSync, userFunctionError } from "./user-error.ts";

/** Kept records keep their timestamps. */
export const filterOperator = <T>(name: string, predicate: (value: T) => boolean): Operator<T, T> => ({
  timestamps: "propagate",
  processBatch(records, out, ts) {
    const input = ts?.input;
    let i = 0;
    try {
      for (; i < records.length; i++) {
        const r = records[i]!;
        const keep = predicate(r);
        // A truthy non-boolean keeps the record too (JavaScript truthiness), unless it is a Promise.
        if (keep === true || (keep && requireSync(keep))) {
          out.push(r);
          if (input !== undefined) ts!.output.push(input[i]!);
        }
      }
    } catch (e) {
      throw userFunctionError(name, records[i], i, e);
    }
  },
});
