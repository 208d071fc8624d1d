import type { Operator } from "./operator.ts";
import { requireSync, userFunctionError } from "./user-error.ts";

/** Each output keeps its input record's timestamp (a plain copy of the array: one per record). */
export const mapOperator = <I, O>(name: string, fn: (value: I) => O): Operator<I, O> => ({
  timestamps: "propagate",
  processBatch(records, out, ts) {
    let i = 0;
    try {
      for (; i < records.length; i++) out.push(requireSync(fn(records[i]!)));
    } catch (e) {
      throw userFunctionError(name, records[i], i, e);
    }
    if (ts === undefined) return;
    const input = ts.input!;
    const stamps = ts.output;
    for (let j = 0; j < input.length; j++) stamps.push(input[j]!);
  },
});
