import type { Operator } from "./operator.ts";
import { requireSync, userFunctionError } from "./user-error.ts";

export const mapOperator = <I, O>(name: string, fn: (value: I) => O): Operator<I, O> => ({
  processBatch(records, out) {
    let i = 0;
    try {
      for (; i < records.length; i++) out.push(requireSync(fn(records[i]!)));
    } catch (e) {
      throw userFunctionError(name, records[i], i, e);
    }
  },
});
