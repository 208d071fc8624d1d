/**
 * Dead letters of the Kafka source: an unreadable record's raw key, value and headers, plus
 * headers saying what went wrong and where it came from (`weir.error`, `weir.topic`,
 * `weir.partition`, `weir.offset`). They are written by the exactly-once Kafka sink as the
 * source's side sink (engine/side-sinks.ts): in the source subtask's checkpoint transaction, so a
 * crash and resume neither loses nor repeats one.
 *
 * Oversized records: a dead letter must fit the dead-letter topic (the broker's default
 * `max.message.bytes` is about 1 MB). One larger than `maxBytes` (key, value and headers) keeps its
 * headers and key and a value truncated to fit, with `weir.truncated=true` and
 * `weir.original-size=<value bytes>`: the fact that the record was bad, its origin and the error
 * survive, instead of failing the job on every restart.
 */
import { describeError } from "../../common/errors.ts";
import { toKafka } from "./sink.ts";
import type { Sink } from "../sink.ts";
import type { TransactionHandle } from "./txn-bridge.ts";

export interface DeadLetter {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
}

/** Default budget of one dead letter (key, value and headers), below the broker's default 1 MB limit. */
export const DEFAULT_DEAD_LETTER_MAX_BYTES = 1_000_000;
/** The error text kept in `weir.error`, at most. */
const MAX_ERROR_CHARS = 1_000;

export interface DeadLetterOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
}

const headerBytes = (headers: Readonly<Record<string, string>>) => Object.entries(headers).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);

/** The dead letter of `record`, truncated to `maxBytes` if needed (see above). */
export const deadLetter = (record: DeadLetterOrigin, error: unknown, maxBytes: number): DeadLetter => {
  const headers: Record<string, string> = {
    ...record.headers,
    "weir.error": describeError(error).slice(0, MAX_ERROR_CHARS),
    "weir.topic": record.topic,
    "weir.partition": String(record.partition),
    "weir.offset": String(record.offset),
  };
  const keyBytes = record.key?.length ?? 0;
  const valueBytes = record.value?.length ?? 0;
  if (keyBytes + valueBytes + headerBytes(headers) <= maxBytes) return { key: record.key, value: record.value, headers };
  headers["weir.truncated"] = "true";
  headers["weir.original-size"] = String(valueBytes);
  const room = Math.max(0, maxBytes - headerBytes(headers) - keyBytes);
  const key = room > 0 || record.key === null ? record.key : record.key.subarray(0, Math.max(0, maxBytes - headerBytes(headers)));
  return { key, value: record.value === null ? null : record.value.subarray(0, room), headers };
};

/** The side sink that writes a source's dead letters to `deadLetterTopic`, exactly once. */
export const deadLetterSink = (
  brokers: string | readonly string[],
  options: { readonly deadLetterTopic: string; readonly transactionTimeoutMs?: number },
): Sink<DeadLetter, TransactionHandle> =>
  toKafka<DeadLetter>({
    brokers,
    topic: options.deadLetterTopic,
    name: "dead-letters",
    key: (r) => r.key,
    value: (r) => r.value,
    headers: (r) => ({ ...r.headers }),
    ...(options.transactionTimeoutMs === undefined ? {} : { transactionTimeoutMs: options.transactionTimeoutMs }),
  });
