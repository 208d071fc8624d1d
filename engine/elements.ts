/**
 * What travels on a channel between two tasks. Every element is plain data (no functions, no
 * class instances of ours) so a channel can later cross a worker thread or a process boundary.
 *
 * - `batch`: records in the order the producer emitted them (never empty), and their timestamps
 *   (operators/timestamps.ts), one per record (NaN: that record has none); absent when no record
 *   has one.
 * - `watermark`: event time has reached `timestamp` on this channel: no later record on it has a
 *   timestamp <= `timestamp` (records that do are late).
 * - `idle`: the producer has no records and no time to report for now; consumers leave the channel
 *   out of their watermark minimum until it sends a batch or a watermark again.
 * - `barrier`: checkpoint `checkpointId` passes here; everything before it belongs to the checkpoint.
 * - `end`: the producer will send nothing more on this channel.
 */
export type StreamElement<T> =
  | { readonly kind: "batch"; readonly records: readonly T[]; readonly timestamps?: readonly number[] }
  | { readonly kind: "watermark"; readonly timestamp: number }
  | { readonly kind: "idle" }
  | { readonly kind: "barrier"; readonly checkpointId: number; readonly timestamp: number }
  | { readonly kind: "end" };

export const batchOf = <T>(records: readonly T[], timestamps?: readonly number[]): StreamElement<T> =>
  timestamps === undefined ? { kind: "batch", records } : { kind: "batch", records, timestamps };
export const watermark = (timestamp: number): StreamElement<never> => ({ kind: "watermark", timestamp });
export const barrier = (checkpointId: number, timestamp: number): StreamElement<never> => ({
  kind: "barrier",
  checkpointId,
  timestamp,
});
export const idleStatus: StreamElement<never> = Object.freeze({ kind: "idle" });
export const endOfInput: StreamElement<never> = Object.freeze({ kind: "end" });
