/**
 * The baseline of bench/kafka.ts: kafkajs's own transactional consume-transform-produce loop
 * doing the work of jobs/kafka-totals.ts (running total per account), exactly once, written the
 * way a careful kafkajs user would:
 *
 * - one consumer (read_committed, no auto-commit) and one transactional producer
 *   (`idempotent`, `maxInFlightRequests: 1`), through the same patched kafkajs Weir loads
 *   (connectors/kafka/kafkajs.ts);
 * - each fetched batch is transformed and handed to the open transaction without waiting for the
 *   broker, in requests of at most `SEND_CHUNK` messages (as Weir's sink: one fetch holds up to
 *   1 MB per partition, ~25k records here, and kafkajs encodes a request synchronously); sends
 *   are chained, one request in flight, so their order is kept; the loop waits only when
 *   `MAX_QUEUED_SENDS` are queued (50,000 records, as Weir's sink), until half have gone;
 * - every `commitIntervalMs` (Weir's checkpoint interval), in one transaction: the totals changed
 *   since the last commit go to a compacted changelog topic (the state, as Kafka Streams persists
 *   it), `sendOffsets` records the input positions, then `commit`; processing waits meanwhile.
 *
 * State lives in a Map (all accounts fit, as they fit in Weir's state cache) and is made durable
 * only through the changelog, atomically with the output and the offsets: a restart would rebuild
 * the Map from the changelog and resume from the committed offsets. (That restore is not written:
 * the benchmark always starts fresh.)
 *
 *   const loop = await startBaseline({ kafka, input, output, changelog, partitions: 3, commitIntervalMs: 1_000, id: "run-1" });
 *   ... loop.processed() ...
 *   await loop.stop();       // commits what was processed, then disconnects
 *
 * Failure: the first error of a send, a commit or the consumer is kept; `stop` and `failed`
 * report it. The loop is not restarted.
 */
import type { Kafka, Message, Transaction } from "kafkajs";

export interface BaselineOptions {
  readonly kafka: Kafka;
  readonly input: string;
  readonly output: string;
  /** Compacted topic with `partitions` partitions: account mod partitions, as the input. */
  readonly changelog: string;
  readonly partitions: number;
  readonly commitIntervalMs: number;
  /** Unique per run: names the consumer group and the transactional id. */
  readonly id: string;
  /** Stop consuming once this many records were consumed (the input's size, for a bounded run). */
  readonly limit?: number;
}

export interface BaselineLoop {
  /**
   * Records handed to kafkajs's producer so far, counted per request as it starts (finer than per
   * fetched batch, ~25k records). All of them are committed once `stop` resolves.
   */
  processed(): number;
  commits(): number;
  /** Resolves once `limit` records were consumed. */
  readonly exhausted: Promise<void>;
  /** Rejects with the loop's first failure. */
  readonly failed: Promise<never>;
  /** Stops consuming, commits what was processed, disconnects; rethrows the first failure. */
  stop(): Promise<void>;
}

/** Send requests queued before a batch waits for the broker (Weir's sink: 50,000 records pending). */
const MAX_QUEUED_SENDS = 25;
/** Messages per send request (Weir's sink: DEFAULT_MAX_BATCH_MESSAGES). */
const SEND_CHUNK = 2_000;

export async function startBaseline(o: BaselineOptions): Promise<BaselineLoop> {
  const groupId = `bench-baseline-${o.id}`;
  const consumer = o.kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 100, sessionTimeout: 30_000, allowAutoTopicCreation: false });
  const producer = o.kafka.producer({ transactionalId: groupId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60_000, allowAutoTopicCreation: false });

  let failure: unknown;
  let fail!: (e: unknown) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  const noteFailure = (e: unknown) => {
    if (failure !== undefined) return;
    failure = e;
    fail(e);
  };
  let exhaust!: () => void;
  const exhausted = new Promise<void>((resolve) => (exhaust = resolve));

  // Processing and commits take turns: a commit never runs while a batch is being handled.
  let turn: Promise<void> = Promise.resolve();
  const serial = (fn: () => Promise<void>): Promise<void> => {
    const result = turn.then(fn);
    turn = result.catch(() => undefined);
    return result;
  };

  let txn: Transaction;
  let sending: Promise<unknown> = Promise.resolve();
  /** The queued requests, oldest first (each removes itself when done: they finish in order). */
  const queue: Promise<unknown>[] = [];
  let processed = 0;
  /** Queues `messages`; `count` says whether they are output records (counted in `processed`). */
  const send = (topic: string, messages: Message[], count: boolean) => {
    const t = txn;
    for (let i = 0; i < messages.length; i += SEND_CHUNK) {
      const chunk = messages.slice(i, i + SEND_CHUNK);
      sending = sending.then(() => {
        if (count) processed += chunk.length;
        return t.send({ topic, messages: chunk });
      });
      // (A block: `finally` would wait on a returned promise, here this very one.)
      const done = sending.finally(() => {
        queue.shift();
      });
      done.catch(noteFailure);
      queue.push(done);
    }
  };

  const totals = new Map<number, number>();
  const dirty = new Set<number>();
  const positions = new Map<number, number>();
  let consumed = 0;
  let uncommitted = 0;
  let commits = 0;
  let stopping = false;

  const commit = async (): Promise<void> => {
    if (uncommitted === 0) return;
    const changes: Message[] = [];
    for (const account of dirty) changes.push({ key: String(account), value: String(totals.get(account)), partition: account % o.partitions });
    dirty.clear();
    send(o.changelog, changes, false);
    await sending;
    if (failure !== undefined) throw failure;
    const partitions = [...positions].map(([partition, offset]) => ({ partition, offset: String(offset) }));
    await txn.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: o.input, partitions }] });
    await txn.commit();
    commits++;
    uncommitted = 0;
    txn = await producer.transaction();
  };

  await producer.connect();
  txn = await producer.transaction();
  await consumer.connect();
  await consumer.subscribe({ topics: [o.input], fromBeginning: true });
  consumer.on(consumer.events.CRASH, (event) => noteFailure(event.payload.error));
  await consumer.run({
    autoCommit: false,
    eachBatch: ({ batch }) =>
      serial(async () => {
        if (stopping || batch.messages.length === 0) return;
        const messages: Message[] = new Array(batch.messages.length);
        for (let k = 0; k < batch.messages.length; k++) {
          const t = JSON.parse(batch.messages[k]!.value!.toString("utf8")) as { account: number; amount: number };
          const total = (totals.get(t.account) ?? 0) + t.amount;
          totals.set(t.account, total);
          dirty.add(t.account);
          messages[k] = { key: String(t.account), value: JSON.stringify({ account: t.account, total }) };
        }
        send(o.output, messages, true);
        positions.set(batch.partition, Number(batch.messages[batch.messages.length - 1]!.offset) + 1);
        consumed += messages.length;
        uncommitted += messages.length;
        if (o.limit !== undefined && consumed >= o.limit) {
          stopping = true;
          exhaust();
        }
        if (queue.length > MAX_QUEUED_SENDS) await queue[queue.length - 1 - Math.floor(MAX_QUEUED_SENDS / 2)]!.catch(() => undefined);
      }).catch(noteFailure),
  });

  const timer = setInterval(() => void serial(commit).catch(noteFailure), o.commitIntervalMs);

  return {
    processed: () => processed,
    commits: () => commits,
    exhausted,
    failed,
    async stop() {
      stopping = true;
      clearInterval(timer);
      await serial(commit).catch(noteFailure);
      await consumer.disconnect().catch(noteFailure);
      await producer.disconnect().catch(() => undefined);
      if (failure !== undefined) throw failure;
    },
  };
}
