/**
 * Verify mode only: wraps a keyed operator so that each record it emits travels as an envelope
 * `{ k, v }` naming the key it was emitted under, which lets `weir verify` check per-key order.
 *
 * Records are processed one at a time (a batch of one), so the output of each input record can be
 * told apart; its key is the keyed store's current key after processing it. Output emitted on a
 * watermark, a processing-time timer or the end of input (windows, timers) has `k: null`: its key
 * is not known, and it is checked as part of the multiset only. Slower than the real operator by
 * design; never used outside `weir verify`.
 */
import type { Operator, OperatorContext, OperatorFactory } from "../../operators/operator.ts";

export interface Envelope {
  /** JSON of the key the record was emitted under; null when not known (timer or watermark output). */
  readonly k: string | null;
  readonly v: unknown;
}

const wrapFrom = (out: unknown[], from: number, k: string | null) => {
  for (let i = from; i < out.length; i++) out[i] = { k, v: out[i] } satisfies Envelope;
};

const unkeyed = async (out: unknown[], run: () => void | Promise<void>) => {
  const from = out.length;
  await run();
  wrapFrom(out, from, null);
};

export const keyedEnvelopeOperator =
  (create: OperatorFactory<unknown, unknown>): OperatorFactory<unknown, unknown> =>
  (context: OperatorContext) => {
    const inner: Operator<unknown, unknown> = create(context);
    const currentKey = () => {
      const key = context.keyedStore?.currentKey;
      return key === undefined ? null : JSON.stringify(key);
    };
    const oneByOne = async (records: readonly unknown[], out: unknown[], process: (batch: readonly unknown[], out: unknown[]) => void | Promise<void>) => {
      for (const r of records) {
        const from = out.length;
        await process([r], out);
        wrapFrom(out, from, currentKey());
      }
    };
    const op: Operator<unknown, unknown> = {
      processBatch: (records, out) => oneByOne(records, out, (b, o) => inner.processBatch(b, o)),
    };
    if (inner.open !== undefined) op.open = () => inner.open!();
    if (inner.close !== undefined) op.close = () => inner.close!();
    if (inner.processBatch2 !== undefined) op.processBatch2 = (records, out) => oneByOne(records, out, (b, o) => inner.processBatch2!(b, o));
    if (inner.endInput !== undefined) op.endInput = (out) => unkeyed(out, () => inner.endInput!(out));
    if (inner.processWatermark !== undefined) op.processWatermark = (w, out) => unkeyed(out, () => inner.processWatermark!(w, out));
    if (inner.processingTimeDue !== undefined) op.processingTimeDue = () => inner.processingTimeDue!();
    if (inner.processProcessingTime !== undefined) op.processProcessingTime = (now, out) => unkeyed(out, () => inner.processProcessingTime!(now, out));
    return op;
  };
