/**
 * Kafka source. Each partition of the topic is a split; the engine assigns splits to source
 * subtasks (deterministically) and owns the positions: a split's position is the next offset to
 * read, stored only in Weir's checkpoints (no consumer-group offset is ever read on restore).
 *
 * All the partitions of one source subtask are read through one kafkajs consumer, in a private,
 * single-use group whose assigner gives it exactly those partitions, each moved to its restored
 * position with `seek` (subtask-consumer.ts); anything the client delivers below a partition's
 * tracked position is dropped. Records are read with read_committed isolation by default; a
 * partition whose buffer is full is paused (backpressure) until drained.
 *
 * Partition discovery (unbounded sources, `partitionDiscovery`, default every 30 s): partitions
 * added to the topic while the job runs become new splits, read from the earliest offset by the
 * subtask that owns them (Flink's owner function: a start subtask from the topic's name, then
 * round robin by partition number), exactly once across checkpoints and rescaling.
 *
 * A record the deserializers cannot read follows `onBadRecord`: "fail" (default: a user error
 * naming topic, partition and offset), "skip" (counted, see `skipped()`), or
 * `{ deadLetterTopic, maxBytes? }` (its raw bytes and the error go there, exactly once: written in
 * the source subtask's checkpoint transaction, see dead-letters.ts; one larger than `maxBytes` is
 * truncated to fit, with headers saying so). Skipped and dead-lettered records are counted for the
 * user (`ReadResult.dropped`).
 *
 * `bounded: true` stops each partition at the end offset it had when the reader opened (for
 * bounded jobs and tests); otherwise the source never ends.
 */
import type { Kafka } from "kafkajs";
import { userError, describeError, internalError, type WeirError } from "../../common/errors.ts";
import type { ReadResult, SideOutput, Source, SourceContext, SplitDiscovery, SplitReader, SplitSet } from "../source.ts";
import { DEFAULT_DEAD_LETTER_MAX_BYTES, deadLetter, deadLetterSink } from "./dead-letters.ts";
import { brokerList, createKafka, kafkaError } from "./client.ts";
import { deserializers, type Deserializer } from "./serde.ts";
import { SubtaskConsumer, type PartitionFeed } from "./subtask-consumer.ts";
import { durationMillis } from "../../common/duration.ts";

export interface KafkaRecord<K, V> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: K;
  readonly value: V;
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
}

export type BadRecordPolicy =
  | "fail"
  | "skip"
  | {
      readonly deadLetterTopic: string;
      /** A dead letter's budget (key, value, headers); a larger one is truncated (default 1,000,000). */
      readonly maxBytes?: number;
      /** Of the dead letters' transactions; as the Kafka sink's `transactionTimeoutMs`. */
      readonly transactionTimeoutMs?: number;
    };

export interface KafkaSourceOptions<K, V> {
  readonly brokers: string | readonly string[];
  readonly topic: string;
  readonly key?: Deserializer<K>;
  readonly value?: Deserializer<V>;
  /** Where a partition without a checkpointed position starts (default earliest). */
  readonly startFrom?: "earliest" | "latest";
  readonly bounded?: boolean;
  readonly onBadRecord?: BadRecordPolicy;
  /**
   * How the job's user chooses the bad-record policy, when the job exposes it (e.g.
   * `--param bad-records=skip|dlq:<topic>`); quoted with `onBadRecord` in the "fail" error.
   */
  readonly onBadRecordHint?: string;
  readonly isolation?: "read_committed" | "read_uncommitted";
  /** Records buffered per partition before it is paused (default 20 000). */
  readonly maxBuffered?: number;
  /**
   * How often to look for partitions added to the topic while the job runs, e.g. "30s" (the
   * default), or false for never (then added partitions are read only after a restart).
   * Ignored for bounded sources, which never discover.
   */
  readonly partitionDiscovery?: string | number | false;
  readonly name?: string;
}

interface RawRecord {
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers: Record<string, string>;
}

const splitId = (topic: string, partition: number) => `${topic}-${partition}`;
const partitionOf = (topic: string, split: string) => Number(split.slice(topic.length + 1));

/** Java's String.hashCode, so the owner of a partition is the one Flink's Kafka source picks. */
const javaHash = (s: string): number => {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
};

/** Flink's KafkaSourceEnumerator.getSplitOwner: the topic picks a start subtask, partitions go round robin from there. */
export const partitionOwner = (topic: string, partition: number, parallelism: number): number =>
  ((((Math.imul(javaHash(topic), 31) & 0x7fffffff) % parallelism) + partition) % parallelism);

const DEFAULT_DISCOVERY_MS = 30_000;

interface ReaderSettings<K, V> {
  readonly kafka: Kafka;
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly partition: number;
  readonly name: string;
  readonly key: Deserializer<K>;
  readonly value: Deserializer<V>;
  readonly onBadRecord: BadRecordPolicy;
  readonly onBadRecordHint: string | undefined;
  readonly maxBuffered: number;
  readonly countSkip: () => void;
  /** The subtask's dead-letter writer (with a dead-letter topic). */
  readonly deadLetters: SideOutput | undefined;
}


class PartitionReader<K, V> implements SplitReader<KafkaRecord<K, V>, number>, PartitionFeed {
  private buffer: RawRecord[] = [];
  private head = 0;
  /** Next offset to return (the checkpointed position). */
  private next: number;
  /** Every offset below this has been delivered or skipped by the client (control records, aborted data). */
  private seenUpTo: number;
  private paused = false;
  private failure: WeirError | undefined;
  /** The partition's high watermark in the latest fetch (-1: none yet). */
  private high = -1;

  constructor(
    private readonly settings: ReaderSettings<K, V>,
    private readonly consumer: SubtaskConsumer,
    start: number,
    private readonly end: number | undefined,
  ) {
    this.next = start;
    this.seenUpTo = start;
  }

  /** Past the buffered records, or where the reader is (a rejoined or replaced consumer starts here). */
  resumeAt(): number {
    const last = this.buffer.length > this.head ? this.buffer[this.buffer.length - 1]!.offset + 1 : 0;
    return Math.max(this.next, this.seenUpTo, last);
  }

  /** Called by the consumer's batch handler. */
  accept(raw: readonly RawRecord[], lastOffset: number, highWatermark?: number): void {
    if (highWatermark !== undefined && Number.isFinite(highWatermark)) this.high = Math.max(this.high, highWatermark);
    const from = Math.max(this.next, this.buffer.length > this.head ? this.buffer[this.buffer.length - 1]!.offset + 1 : this.next);
    for (const r of raw) if (r.offset >= from) this.buffer.push(r);
    this.seenUpTo = Math.max(this.seenUpTo, lastOffset + 1);
    if (!this.paused && this.buffer.length - this.head >= this.settings.maxBuffered) {
      this.paused = true;
      this.consumer.pause(this.settings.partition);
    }
  }

  fail(error: WeirError): void {
    this.failure ??= error;
  }

  read(max: number): ReadResult<KafkaRecord<K, V>> | Promise<ReadResult<KafkaRecord<K, V>>> {
    if (this.failure !== undefined) throw this.failure;
    const available = this.buffer.length - this.head;
    if (available === 0) {
      this.next = Math.max(this.next, this.seenUpTo);
      this.resumeIfPaused();
      if (this.end !== undefined && this.next >= this.end) return { kind: "end" };
      return { kind: "idle", retryAfterMs: 5 };
    }
    const { topic, partition, key, value, onBadRecord, onBadRecordHint } = this.settings;
    const take = Math.min(max, available, this.end === undefined ? Infinity : Math.max(0, this.end - this.next));
    const records: KafkaRecord<K, V>[] = [];
    const bad: { raw: RawRecord; error: unknown }[] = [];
    for (let i = 0; i < take; i++) {
      const raw = this.buffer[this.head + i]!;
      if (this.end !== undefined && raw.offset >= this.end) break;
      try {
        records.push({ topic, partition, offset: raw.offset, key: key(raw.key), value: value(raw.value), timestamp: raw.timestamp, headers: raw.headers });
      } catch (e) {
        if (onBadRecord === "fail") {
          const choose = onBadRecordHint === undefined ? `set the source's onBadRecord option to "skip" or { deadLetterTopic }` : `run with ${onBadRecordHint} (the source's onBadRecord option)`;
          throw userError("KAFKA_BAD_RECORD", `record at ${topic}/${partition}@${raw.offset} cannot be deserialized: ${describeError(e)}; fix the producer, or ${choose}`);
        }
        bad.push({ raw, error: e });
      }
    }
    const consumed = records.length + bad.length;
    const lastRaw = this.buffer[this.head + consumed - 1];
    const dropped = bad.length === 0 ? undefined : typeof onBadRecord === "object" ? { skipped: 0, deadLettered: bad.length } : { skipped: bad.length, deadLettered: 0 };
    const advance = (): ReadResult<KafkaRecord<K, V>> => {
      this.head += consumed;
      if (lastRaw !== undefined) this.next = lastRaw.offset + 1;
      if (this.head > 4096 && this.head * 2 > this.buffer.length) {
        this.buffer = this.buffer.slice(this.head);
        this.head = 0;
      }
      const counts = dropped === undefined ? {} : { dropped };
      if (this.end !== undefined && this.next >= this.end && records.length === 0) return { kind: "end", ...counts };
      return records.length > 0 ? { kind: "records", records, ...counts } : { kind: "idle", retryAfterMs: 0, ...counts };
    };
    if (bad.length === 0) return advance();
    if (typeof onBadRecord === "object") {
      // Written in the checkpoint interval whose snapshot records the position past them.
      const out = this.settings.deadLetters;
      if (out === undefined) throw internalError("KAFKA_NO_DEAD_LETTER_WRITER", `Kafka source '${this.settings.name}': the engine gave no writer for its dead-letter topic`);
      const maxBytes = onBadRecord.maxBytes ?? DEFAULT_DEAD_LETTER_MAX_BYTES;
      const written = out.write(bad.map(({ raw, error }) => deadLetter({ topic, partition, ...raw }, error, maxBytes)));
      return written instanceof Promise ? written.then(advance) : advance();
    }
    for (let i = 0; i < bad.length; i++) this.settings.countSkip();
    return advance();
  }

  private resumeIfPaused(): void {
    if (!this.paused) return;
    this.paused = false;
    this.consumer.resume(this.settings.partition);
  }

  position(): number {
    return this.next;
  }

  /** Consumer lag: the high watermark of the latest fetch minus the next offset to return. */
  lag(): number | undefined {
    return this.high < 0 ? undefined : Math.max(0, this.high - this.next);
  }

  /** The shared consumer is closed by its split set, after every reader. */
  close(): void {}
}

export interface KafkaSource<K, V> extends Source<KafkaRecord<K, V>, number> {
  /** Records skipped by the "skip" bad-record policy in this process. */
  skipped(): number;
}

/** Reads a Kafka topic; see above. Key defaults to a string, value to JSON. */
export const fromKafka = <K = string, V = unknown>(options: KafkaSourceOptions<K, V>): KafkaSource<K, V> => {
  const brokers = brokerList(options.brokers);
  const name = options.name ?? "kafka-source";
  const topic = options.topic;
  const key = (options.key ?? deserializers.string) as Deserializer<K>;
  const value = (options.value ?? deserializers.json) as Deserializer<V>;
  let skipped = 0;
  const onBadRecord = options.onBadRecord ?? "fail";
  const kafkaFor = (context: SourceContext) => createKafka({ brokers, clientId: `weir-${context.jobName}-${name}` });
  const discoveryMs = discoveryInterval(options.partitionDiscovery, name);
  let setsOpened = 0;

  /** One subtask's partitions: one client, one consumer (see subtask-consumer.ts). */
  const openSplitSet = (context: SourceContext): SplitSet<KafkaRecord<K, V>, number> => {
    const kafka = kafkaFor(context);
    const consumer = new SubtaskConsumer({
      kafka,
      brokers,
      topic,
      // Unique per subtask (each worker thread counts its own sets from 0) and per set it opens.
      groupPrefix: `weir-${context.jobName}-${context.runId}-${name}-${context.subtask ?? "x"}-${setsOpened++}`,
      readUncommitted: options.isolation === "read_uncommitted",
    });
    return {
      async add(splits) {
        const needOffsets = options.bounded === true || (options.startFrom === "latest" && splits.some((s) => s.position === undefined));
        const high = needOffsets ? await highWatermarks(kafka) : new Map<number, number>();
        const readers = splits.map(({ split, position }) => {
          const partition = partitionOf(topic, split);
          const start = position ?? (options.startFrom === "latest" ? (high.get(partition) ?? 0) : 0);
          const end = options.bounded === true ? (high.get(partition) ?? 0) : undefined;
          return new PartitionReader<K, V>(
            {
              kafka,
              brokers,
              topic,
              partition,
              name,
              key,
              value,
              onBadRecord,
              onBadRecordHint: options.onBadRecordHint,
              maxBuffered: options.maxBuffered ?? 20_000,
              countSkip: () => void skipped++,
              deadLetters: context.sideOutput,
            },
            consumer,
            start,
            end,
          );
        });
        await consumer.add(new Map(readers.map((r, i) => [partitionOf(topic, splits[i]!.split), r])));
        return readers;
      },
      close: () => consumer.close(),
    };
  };

  /** Each partition's high watermark (the end offset now), with one admin request. */
  const highWatermarks = async (kafka: Kafka): Promise<Map<number, number>> => {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
    } catch (e) {
      throw kafkaError(e, brokers, `reading the offsets of '${topic}'`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };

  const discovery: SplitDiscovery<number> | undefined =
    options.bounded === true || discoveryMs === undefined
      ? undefined
      : {
          intervalMs: discoveryMs,
          owner: (split, parallelism) => partitionOwner(topic, partitionOf(topic, split), parallelism),
          // Offset 0: a partition added to the topic starts empty; if retention already removed
          // its head, the consumer resets an out-of-range offset to the earliest one.
          newSplitPosition: () => 0,
        };

  return {
    name,
    bounded: options.bounded === true,
    ...(typeof onBadRecord === "object" ? { sideSink: deadLetterSink(brokers, onBadRecord) } : {}),
    skipped: () => skipped,
    async splits(context) {
      const admin = kafkaFor(context).admin();
      try {
        await admin.connect();
        const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
        const partitions = metadata.topics[0]?.partitions.map((p) => p.partitionId) ?? [];
        if (partitions.length === 0) throw userError("KAFKA_TOPIC_NOT_FOUND", `Kafka topic '${topic}' has no partitions or does not exist (${brokers.join(",")})`);
        return partitions.sort((a, b) => a - b).map((p) => splitId(topic, p));
      } catch (e) {
        const type = (e as { type?: string }).type;
        if (type === "UNKNOWN_TOPIC_OR_PARTITION") {
          throw userError("KAFKA_TOPIC_NOT_FOUND", `Kafka topic '${topic}' does not exist (${brokers.join(",")}); create it first`);
        }
        throw kafkaError(e, brokers, `reading the partitions of '${topic}'`);
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    openSplitSet,
    ...(discovery === undefined ? {} : { discovery }),
    async openReader(split, position, context) {
      const set = openSplitSet(context);
      try {
        const [reader] = await set.add([{ split, position }]);
        return { read: (max) => reader!.read(max), position: () => reader!.position(), lag: () => reader!.lag?.(), close: () => set.close() };
      } catch (e) {
        await set.close();
        throw e;
      }
    },
  };
};

/** The discovery interval in ms (undefined: never), or a user error naming the option. */
const discoveryInterval = (value: string | number | false | undefined, source: string): number | undefined => {
  if (value === false) return undefined;
  if (value === undefined) return DEFAULT_DISCOVERY_MS;
  const ms = durationMillis(value);
  if (ms === undefined || ms <= 0) {
    throw userError("KAFKA_BAD_OPTION", `Kafka source '${source}': partitionDiscovery must be a positive duration such as "30s" or false, got ${JSON.stringify(value)}`);
  }
  return ms;
};
