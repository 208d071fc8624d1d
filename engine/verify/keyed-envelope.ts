/**
 * Verify mode only: wraps a key-partitioned operator (fed by keyBy) so that each record it emits
 * travels as an envelope `{ k, v }` naming the key it was emitted under, which lets `weir verify`
 * check per-key order.
 *
 * Records are processed one at a time (a batch of one), so the output of each input record can be
 * told apart; its key is the keyed store's current key after processing it. Output emitted on a
 * watermark, a processing-time timer or the end of input (windows, timers), and output of a
 * broadcast second input (which has no current key), has `k: null`: its key is not known, and it
 * is checked as part of the multiset only. `WatermarkMark`s (operators with `emitsWatermarks`)
 * are not records and stay as they are. Every other member of the operator is forwarded as it is.
 * Record timestamps (operators/timestamps.ts) pass through as the inner operator handles them: an
 * envelope has its value's timestamp. Slower than the real operator by design (it stays
 * synchronous while the operator is); never used outside `weir verify`.
 */
import { WatermarkMark, type Operator, type OperatorContext, type OperatorFactory, type Timestamps } from "../../operators/operator.ts";

export interface Envelope {
  /** JSON of the key the record was emitted under; null when not known (timer or watermark output). */
  readonly k: string | null;
  readonly v: unknown;
}

export interface EnvelopeOptions {
  /** The second input is keyed (a keyed co-process function); false: none, or a broadcast input (its output gets `k: null`). */
  readonly keyedSecondInput: boolean;
}

type Out = unknown[];
type Maybe = void | Promise<void>;

const wrapFrom = (out: Out, from: number, k: string | null) => {
  for (let i = from; i < out.length; i++) if (!(out[i] instanceof WatermarkMark)) out[i] = { k, v: out[i] } satisfies Envelope;
};

/** Record `i`'s share of a batch's timestamps, with an output array of its own. */
const oneOf = (ts: Timestamps | undefined, i: number): Timestamps | undefined =>
  ts === undefined ? undefined : { input: ts.input === undefined ? undefined : [ts.input[i]!], output: [] };

/** Appends one record's output timestamps (NaN for each of its `n` outputs if it gave none). */
const appendStamps = (ts: Timestamps | undefined, one: Timestamps | undefined, n: number) => {
  if (ts === undefined || one === undefined) return;
  if (one.output.length === n) for (const t of one.output) ts.output.push(t);
  else for (let j = 0; j < n; j++) ts.output.push(Number.NaN);
};

/** Runs `process` on each record alone and wraps its output with `key()` read right after; synchronous while `process` is. */
const oneByOne =
  (process: (batch: readonly unknown[], out: Out, ts: Timestamps | undefined) => Maybe, key: () => string | null) =>
  (records: readonly unknown[], out: Out, ts?: Timestamps): Maybe => {
    const from = (i: number): Maybe => {
      for (; i < records.length; i++) {
        const start = out.length;
        const one = oneOf(ts, i);
        const done = () => {
          appendStamps(ts, one, out.length - start);
          wrapFrom(out, start, key());
        };
        const pending = process([records[i]], out, one);
        if (pending !== undefined) {
          const next = i + 1;
          return pending.then(() => {
            done();
            return from(next);
          });
        }
        done();
      }
      return undefined;
    };
    return from(0);
  };

/** Output with no known key (timers, watermarks, end of input). */
const unkeyed = (out: Out, run: () => Maybe): Maybe => {
  const start = out.length;
  const pending = run();
  if (pending === undefined) return wrapFrom(out, start, null);
  return pending.then(() => wrapFrom(out, start, null));
};

/** Every member of Operator: a member added to the interface fails to compile here until it is listed, and forwarded below. */
const FORWARDED: { readonly [M in keyof Operator<unknown, unknown>]-?: true } = {
  processBatch: true,
  processBatch2: true,
  open: true,
  close: true,
  endInput: true,
  processWatermark: true,
  processingTimeDue: true,
  processProcessingTime: true,
  prefetch: true,
  inputBlocked: true,
  emitsWatermarks: true,
  timestamps: true,
};
void FORWARDED;

export const keyedEnvelopeOperator =
  (create: OperatorFactory<unknown, unknown>, options: EnvelopeOptions): OperatorFactory<unknown, unknown> =>
  (context: OperatorContext) => {
    const inner: Operator<unknown, unknown> = create(context);
    const currentKey = () => {
      const key = context.keyedStore?.currentKey;
      return key === undefined ? null : JSON.stringify(key);
    };
    const op: { -readonly [M in keyof Operator<unknown, unknown>]: Operator<unknown, unknown>[M] } = {
      processBatch: oneByOne((b, o, t) => inner.processBatch(b, o, t), currentKey),
    };
    if (inner.processBatch2 !== undefined) op.processBatch2 = oneByOne((b, o, t) => inner.processBatch2!(b, o, t), options.keyedSecondInput ? currentKey : () => null);
    if (inner.open !== undefined) op.open = () => inner.open!();
    if (inner.close !== undefined) op.close = () => inner.close!();
    if (inner.endInput !== undefined) op.endInput = (out, ts) => unkeyed(out, () => inner.endInput!(out, ts));
    if (inner.processWatermark !== undefined) op.processWatermark = (w, out, ts) => unkeyed(out, () => inner.processWatermark!(w, out, ts));
    if (inner.processingTimeDue !== undefined) op.processingTimeDue = () => inner.processingTimeDue!();
    if (inner.processProcessingTime !== undefined) op.processProcessingTime = (now, out, ts) => unkeyed(out, () => inner.processProcessingTime!(now, out, ts));
    if (inner.prefetch !== undefined) op.prefetch = (records) => inner.prefetch!(records);
    if (inner.inputBlocked !== undefined) op.inputBlocked = () => inner.inputBlocked!();
    if (inner.emitsWatermarks !== undefined) op.emitsWatermarks = inner.emitsWatermarks;
    if (inner.timestamps !== undefined) op.timestamps = inner.timestamps;
    return op;
  };
