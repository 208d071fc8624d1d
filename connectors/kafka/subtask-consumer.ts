/**
 * One kafkajs consumer for every partition a source subtask reads (kafkajs has no `assign()`).
 * The consumer is the only member of a private, single-use group whose assigner hands it exactly
 * these partitions; each time it joins, every partition is sought to the offset its reader needs
 * next, so positions stay owned by Weir's checkpoints (no offset is ever committed or read from
 * the group). Backpressure pauses and resumes single partitions.
 *
 * Adding partitions (a discovered split) replaces the consumer: the old one leaves, a new one in
 * a new private group gets the whole set and seeks each partition to where its reader is. Records
 * the client delivers twice are dropped by the readers (they keep only offsets past their own).
 *
 * Failure: a consumer crash (kafkajs gave up retrying) fails every partition's reader with the
 * error, so the next read throws it.
 */
import type { Consumer, Kafka, PartitionAssigner } from "kafkajs";
import { AssignerProtocol } from "./kafkajs.ts";
import { kafkaError } from "./client.ts";
import type { WeirError } from "../../common/errors.ts";

export interface FetchedRecord {
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers: Record<string, string>;
}

/** A partition's reader, as the consumer sees it. */
export interface PartitionFeed {
  /** The next offset the reader needs from the client. */
  resumeAt(): number;
  /** A fetched batch; every offset up to `lastOffset` was delivered or skipped (markers, aborted data). */
  accept(records: readonly FetchedRecord[], lastOffset: number, highWatermark?: number): void;
  fail(error: WeirError): void;
}

export interface SubtaskConsumerOptions {
  readonly kafka: Kafka;
  readonly brokers: readonly string[];
  readonly topic: string;
  /** Unique for this subtask in this run; each consumer's group id is this plus a generation. */
  readonly groupPrefix: string;
  readonly readUncommitted: boolean;
}

/** Assigns exactly `partitions` of `topic` to the (only) member of a private group. */
const fixedAssigner =
  (topic: string, partitions: readonly number[]): PartitionAssigner =>
  () => ({
    name: "WeirFixedPartitions",
    version: 1,
    async assign({ members }) {
      return members.map((m, i) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: i === 0 ? { [topic]: [...partitions] } : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return { name: "WeirFixedPartitions", metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
    },
  });

const headersOf = (headers: Record<string, unknown> | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v !== undefined) out[k] = Buffer.isBuffer(v) ? v.toString("utf8") : String(v);
  }
  return out;
};

export class SubtaskConsumer {
  private readonly feeds = new Map<number, PartitionFeed>();
  private readonly paused = new Set<number>();
  private consumer: Consumer | undefined;
  private generation = 0;
  private closed = false;

  constructor(private readonly options: SubtaskConsumerOptions) {}

  /** Adds partitions and (re)starts the consumer with the whole set; resolves once it has joined. */
  async add(feeds: ReadonlyMap<number, PartitionFeed>): Promise<void> {
    for (const [partition, feed] of feeds) this.feeds.set(partition, feed);
    const previous = this.consumer;
    this.consumer = undefined;
    await previous?.disconnect().catch(() => undefined);
    await this.start();
  }

  pause(partition: number): void {
    this.paused.add(partition);
    this.consumer?.pause([{ topic: this.options.topic, partitions: [partition] }]);
  }

  resume(partition: number): void {
    if (!this.paused.delete(partition)) return;
    this.consumer?.resume([{ topic: this.options.topic, partitions: [partition] }]);
  }

  async close(): Promise<void> {
    this.closed = true;
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect().catch(() => undefined);
  }

  private async start(): Promise<void> {
    const { kafka, brokers, topic, groupPrefix, readUncommitted } = this.options;
    if (this.closed) return;
    const partitions = [...this.feeds.keys()].sort((a, b) => a - b);
    const consumer = kafka.consumer({
      groupId: `${groupPrefix}-${this.generation++}`,
      partitionAssigners: [fixedAssigner(topic, partitions)],
      readUncommitted,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      maxWaitTimeInMs: 100,
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000, restartOnFailure: async () => false },
    });
    consumer.on(consumer.events.CRASH, (event) => {
      const error = kafkaError(event.payload.error, brokers, `consuming ${topic} partitions ${partitions.join(",")}`);
      for (const feed of this.feeds.values()) feed.fail(error);
    });
    // Every join (the first and any rejoin, e.g. after the topic's metadata changed): start each
    // partition where its reader is, before the first fetch, and keep the paused ones paused.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const [partition, feed] of this.feeds) consumer.seek({ topic, partition, offset: String(feed.resumeAt()) });
      if (this.paused.size > 0) consumer.pause([{ topic, partitions: [...this.paused] }]);
    });
    this.consumer = consumer;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => {
          const feed = this.feeds.get(batch.partition);
          if (feed === undefined || this.consumer !== consumer) return;
          feed.accept(
            batch.messages.map((m) => ({
              offset: Number(m.offset),
              key: m.key,
              value: m.value,
              timestamp: Number(m.timestamp),
              headers: headersOf(m.headers as Record<string, unknown> | undefined),
            })),
            Number(batch.lastOffset()),
            Number(batch.highWatermark),
          );
        },
      });
    } catch (e) {
      this.consumer = undefined;
      await consumer.disconnect().catch(() => undefined);
      throw kafkaError(e, brokers, `opening ${topic} partitions ${partitions.join(",")}`);
    }
  }
}
