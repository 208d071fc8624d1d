import type { Operator } from "./operator.ts";
import { requireSync, userFunctionError } from "./user-error.ts";

export const filterOperator = <T>(name: string, predicate: (value: T) => boolean): Operator<T, T> => ({
  processBatch(records, out) {
    let i = 0;
    try {
      for (; i < records.length; i++) {
        const r = records[i]!;
        const keep = predicate(r);
        // A truthy non-boolean keeps the record too (JavaScript truthiness), unless it is a Promise.
        if (keep === true || (keep && requireSync(keep))) out.push(r);
      }
    } catch (e) {
      throw userFunctionError(name, records[i], i, e);
    }
  },
});
