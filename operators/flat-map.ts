import type { Operator } from "./operator.ts";
import { requireSync, userFunctionError } from "./user-error.ts";

export const flatMapOperator = <I, O>(name: string, fn: (value: I) => Iterable<O>): Operator<I, O> => ({
  processBatch(records, out) {
    let i = 0;
    try {
      for (; i < records.length; i++) {
        const produced = fn(records[i]!);
        if (Array.isArray(produced)) {
          for (let j = 0; j < produced.length; j++) out.push(produced[j] as O);
        } else {
          for (const o of requireSync(produced)) out.push(o);
        }
      }
    } catch (e) {
      throw userFunctionError(name, records[i], i, e);
    }
  },
});
