import type { Operator } from "./operator.ts";
import { userFunctionError } from "./user-error.ts";

export const filterOperator = <T>(name: string, predicate: (value: T) => boolean): Operator<T, T> => ({
  processBatch(records, out) {
    let i = 0;
    try {
      for (; i < records.length; i++) {
        const r = records[i]!;
        if (predicate(r)) out.push(r);
      }
    } catch (e) {
      throw userFunctionError(name, records[i], i, e);
    }
  },
});
