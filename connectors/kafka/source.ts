/**
 * Kafka source. Each partition of the topic is a split; the engine assigns splits to source
 * subtasks (deterministically) and owns the positions: a split's position is the next offset to
 * read, stored only in Weir's checkpoints (no consumer-group offset is ever read on restore).
 *
 * Per split, a kafkajs consumer in a private, single-use group gets exactly that partition (a
 * custom assigner) and is moved to the restored position with `seek`; anything the client
 * delivers below the tracked position is dropped. Records are read with read_committed isolation
 * by default; a partition whose buffer is full is paused (backpressure) until drained.
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
import type { Consumer, Kafka, PartitionAssigner } from "kafkajs";
import { AssignerProtocol } from "./kafkajs.ts";
import { userError, describeError, internalError, type WeirError } from "../../common/errors.ts";
import type { ReadResult, SideOutput, Source, SourceContext, SplitReader } from "../source.ts";
import { DEFAULT_DEAD_LETTER_MAX_BYTES, deadLetter, deadLetterSink } from "./dead-letters.ts";
import { brokerList, createKafka, kafkaError } from "./client.ts";
import { deserializers, type Deserializer } from "./serde.ts";

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

/** Assigns exactly one partition of one topic to the (only) member of a private group. */
const singlePartitionAssigner =
  (topic: string, partition: number): PartitionAssigner =>
  () => ({
    name: "WeirSinglePartition",
    version: 1,
    async assign({ members }) {
      return members.map((m, i) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: i === 0 ? { [topic]: [partition] } : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return { name: "WeirSinglePartition", metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
    },
  });

const headersOf = (headers: Record<string, unknown> | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v !== undefined) out[k] = Buffer.isBuffer(v) ? v.toString("utf8") : String(v);
  }
  return out;
};

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

class PartitionReader<K, V> implements SplitReader<KafkaRecord<K, V>, number> {
  private buffer: RawRecord[] = [];
  private head = 0;
  /** Next offset to return (the checkpointed position). */
  private next: number;
  /** Every offset below this has been delivered or skipped by the client (control records, aborted data). */
  private seenUpTo: number;
  private paused = false;
  private failure: WeirError | undefined;

  constructor(
    private readonly settings: ReaderSettings<K, V>,
    private readonly consumer: Consumer,
    start: number,
    private readonly end: number | undefined,
  ) {
    this.next = start;
    this.seenUpTo = start;
  }

  /** Called by the consumer's batch handler. */
  accept(raw: readonly RawRecord[], lastOffset: number): void {
    const from = Math.max(this.next, this.buffer.length > this.head ? this.buffer[this.buffer.length - 1]!.offset + 1 : this.next);
    for (const r of raw) if (r.offset >= from) this.buffer.push(r);
    this.seenUpTo = Math.max(this.seenUpTo, lastOffset + 1);
    if (!this.paused && this.buffer.length - this.head >= this.settings.maxBuffered) {
      this.paused = true;
      this.consumer.pause([{ topic: this.settings.topic, partitions: [this.settings.partition] }]);
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
    this.consumer.resume([{ topic: this.settings.topic, partitions: [this.settings.partition] }]);
  }

  position(): number {
    return this.next;
  }

  async close(): Promise<void> {
    await this.consumer.disconnect().catch(() => undefined);
  }
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
    async openReader(split, position, context) {
      const partition = partitionOf(topic, split);
      const kafka = kafkaFor(context);
      let end: number | undefined;
      let start = position;
      if (options.bounded === true || (start === undefined && options.startFrom === "latest")) {
        const admin = kafka.admin();
        try {
          await admin.connect();
          const offsets = await admin.fetchTopicOffsets(topic);
          const p = offsets.find((o) => o.partition === partition);
          if (options.bounded === true) end = Number(p?.high ?? 0);
          if (start === undefined && options.startFrom === "latest") start = Number(p?.high ?? 0);
        } catch (e) {
          throw kafkaError(e, brokers, `reading the offsets of '${topic}'`);
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      }
      const consumer = kafka.consumer({
        groupId: `weir-${context.jobName}-${context.runId}-${split}`,
        partitionAssigners: [singlePartitionAssigner(topic, partition)],
        readUncommitted: options.isolation === "read_uncommitted",
        allowAutoTopicCreation: false,
        sessionTimeout: 30_000,
        maxWaitTimeInMs: 100,
        retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000, restartOnFailure: async () => false },
      });
      const reader = new PartitionReader<K, V>(
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
        start ?? 0,
        end,
      );
      consumer.on(consumer.events.CRASH, (event) => {
        reader.fail(kafkaError(event.payload.error, brokers, `consuming ${split}`));
      });
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: true,
          eachBatch: async ({ batch }) => {
            reader.accept(
              batch.messages.map((m) => ({
                offset: Number(m.offset),
                key: m.key,
                value: m.value,
                timestamp: Number(m.timestamp),
                headers: headersOf(m.headers as Record<string, unknown> | undefined),
              })),
              Number(batch.lastOffset()),
            );
          },
        });
        if (start !== undefined) consumer.seek({ topic, partition, offset: String(start) });
      } catch (e) {
        await consumer.disconnect().catch(() => undefined);
        throw kafkaError(e, brokers, `opening ${split}`);
      }
      return reader;
    },
  };
};
