/**
 * Kafka sink with three delivery modes:
 * - `exactly-once` (default): Kafka transactions as two-phase commit. Each sink subtask writes the
 *   records between two checkpoints in one transaction under its own transactional id
 *   `<prefix>-<run>-<subtask>-<seq>`. preCommit (at the barrier) flushes every send and records
 *   (transactional id, producer id, epoch) in the checkpoint; commit (after the checkpoint
 *   completes, or at recovery) ends it with EndTxn through the bridge. Recovery commits what the
 *   checkpoint recorded and fences every transactional id earlier runs may have left open, so no
 *   zombie writes and no read_committed consumer stays stuck.
 * - `at-least-once`: idempotent producer; every send is flushed at the checkpoint.
 * - `none`: sends are not awaited at checkpoints (flushed at close).
 */
import type { IHeaders, Kafka, Message, Producer, Transaction } from "kafkajs";
import { userError, externalError } from "../../common/errors.ts";
import type { RecoveryContext, Sink, SinkContext, SinkWriter } from "../sink.ts";
import { brokerList, createKafka, kafkaError } from "./client.ts";
import { forgetIdentity, lastIdentity } from "./kafkajs-internals.ts";
import { TransactionBridge, type TransactionHandle } from "./txn-bridge.ts";
import { nextTxnState, type TxnState } from "./txn-lifecycle.ts";
import type { Serializer } from "./serde.ts";
import { OrderedSender } from "./ordered-sender.ts";

export type KafkaSinkMode = "exactly-once" | "at-least-once" | "none";

export interface KafkaSinkOptions<T> {
  readonly brokers: string | readonly string[];
  readonly topic: string;
  /** Record key (default: none). Equal keys go to the same partition. */
  readonly key?: Serializer<T>;
  /** Record value (default: JSON). */
  readonly value?: Serializer<T>;
  /** Record headers (default: none). */
  readonly headers?: (record: T) => IHeaders;
  readonly mode?: KafkaSinkMode;
  /** Transactional id prefix (default `weir-<job>-<operator>`); unique per job and sink. */
  readonly transactionalIdPrefix?: string;
  /** Must exceed the checkpoint interval and stay within the broker's transaction.max.timeout.ms (default 10 min). */
  readonly transactionTimeoutMs?: number;
  readonly name?: string;
}

export interface KafkaWriterState {
  readonly runId: string;
  readonly subtask: number;
  /** Sequence number the next transaction of this writer gets. */
  readonly nextSeq: number;
}

const DEFAULT_TXN_TIMEOUT_MS = 10 * 60_000;

const toMessage = <T>(record: T, key: Serializer<T> | undefined, value: Serializer<T>, headers?: (record: T) => IHeaders): Message => ({
  key: key === undefined ? null : key(record),
  value: value(record),
  ...(headers === undefined ? {} : { headers: headers(record) }),
});

export const transactionalId = (prefix: string, runId: string, subtask: number, seq: number) => `${prefix}-${runId}-${subtask}-${seq}`;

interface OpenTxn {
  readonly transactionalId: string;
  readonly producer: Producer;
  readonly transaction: Transaction;
  readonly sender: OrderedSender;
  state: TxnState;
}

/** Validates the transaction timeout against the checkpoint interval and the broker's maximum. */
const validateTimeout = async (kafka: Kafka, brokers: readonly string[], timeoutMs: number, intervalMs: number, name: string) => {
  if (Number.isFinite(intervalMs) && timeoutMs <= intervalMs) {
    throw userError(
      "KAFKA_TXN_TIMEOUT_TOO_SHORT",
      `Kafka sink '${name}': transactionTimeoutMs ${timeoutMs} must exceed the checkpoint interval ${intervalMs} ms (a transaction stays open from one checkpoint to the next); raise transactionTimeoutMs or shorten --checkpoint-interval`,
      { operator: name },
    );
  }
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 4 /* BROKER */, name: String(cluster.controller ?? cluster.brokers[0]?.nodeId ?? 1), configNames: ["transaction.max.timeout.ms"] }],
    });
    const entry = configs.resources[0]?.configEntries.find((c) => c.configName === "transaction.max.timeout.ms");
    const max = entry === undefined ? undefined : Number(entry.configValue);
    if (max !== undefined && Number.isFinite(max) && timeoutMs > max) {
      throw userError(
        "KAFKA_TXN_TIMEOUT_TOO_LONG",
        `Kafka sink '${name}': transactionTimeoutMs ${timeoutMs} exceeds the broker's transaction.max.timeout.ms ${max} (${brokers.join(",")}); lower transactionTimeoutMs or raise the broker setting`,
        { operator: name },
      );
    }
  } catch (e) {
    throw kafkaError(e, brokers, "checking the transaction timeout", name);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
};

class ExactlyOnceWriter<T> implements SinkWriter<T, TransactionHandle> {
  private current: OpenTxn | undefined;
  private seq = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly bridge: TransactionBridge,
    private readonly options: KafkaSinkOptions<T>,
    private readonly context: SinkContext,
    private readonly prefix: string,
    private readonly brokers: readonly string[],
    private readonly timeoutMs: number,
  ) {}

  private async begin(): Promise<OpenTxn> {
    const id = transactionalId(this.prefix, this.context.runId, this.context.subtask, this.seq++);
    const producer = this.kafka.producer({
      transactionalId: id,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: this.timeoutMs,
      allowAutoTopicCreation: false,
    });
    try {
      await producer.connect();
      const transaction = await producer.transaction();
      const topic = this.options.topic;
      const sender = new OrderedSender((messages) => transaction.send({ topic, messages }));
      return { transactionalId: id, producer, transaction, sender, state: "open" };
    } catch (e) {
      await producer.disconnect().catch(() => undefined);
      throw kafkaError(e, this.brokers, `beginning transaction '${id}'`, this.context.operatorName);
    }
  }

  async write(records: readonly T[]): Promise<void> {
    const txn = (this.current ??= await this.begin());
    const value = this.options.value ?? ((r: T) => JSON.stringify(r));
    try {
      await txn.sender.add(records.map((r) => toMessage(r, this.options.key, value, this.options.headers)));
    } catch (e) {
      throw kafkaError(e, this.brokers, `sending in transaction '${txn.transactionalId}'`, this.context.operatorName);
    }
  }

  private async flush(txn: OpenTxn): Promise<void> {
    try {
      await txn.sender.flush();
    } catch (e) {
      throw kafkaError(e, this.brokers, `sending in transaction '${txn.transactionalId}'`, this.context.operatorName);
    }
  }

  async preCommit(): Promise<readonly TransactionHandle[]> {
    const txn = this.current;
    if (txn === undefined) return [];
    this.current = undefined;
    await this.flush(txn);
    txn.state = nextTxnState(txn.state, "preCommit", txn.transactionalId);
    const identity = lastIdentity(txn.transactionalId);
    forgetIdentity(txn.transactionalId);
    void txn.producer.disconnect().catch(() => undefined);
    if (identity === undefined) {
      throw externalError("KAFKA_TXN_UNKNOWN", `no producer id was recorded for transaction '${txn.transactionalId}'`, { retriable: true });
    }
    return [{ transactionalId: txn.transactionalId, ...identity }];
  }

  commit(handles: readonly TransactionHandle[]): Promise<void> {
    return commitAll(this.bridge, handles, this.context.operatorName);
  }

  snapshotState(): KafkaWriterState {
    return { runId: this.context.runId, subtask: this.context.subtask, nextSeq: this.seq };
  }

  async close(): Promise<void> {
    const txn = this.current;
    this.current = undefined;
    if (txn !== undefined) {
      txn.state = nextTxnState(txn.state, "abort", txn.transactionalId);
      await txn.sender.settle();
      await txn.transaction.abort().catch(() => undefined);
      await txn.producer.disconnect().catch(() => undefined);
    }
    await this.bridge.close();
  }
}

const commitAll = async (bridge: TransactionBridge, handles: readonly TransactionHandle[], operator: string): Promise<void> => {
  for (const handle of handles) {
    const outcome = await bridge.end(handle, true);
    if (outcome !== "committed") {
      throw externalError(
        "KAFKA_TXN_LOST",
        `Kafka sink '${operator}': transaction '${handle.transactionalId}' was aborted before it could be committed (its records are lost from the output); the transaction timeout is probably shorter than the time between checkpoint and commit`,
        { operator, retriable: false },
      );
    }
  }
};

class PlainWriter<T> implements SinkWriter<T, never> {
  private producer: Producer | undefined;
  private sender: OrderedSender | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaSinkOptions<T>,
    private readonly context: SinkContext,
    private readonly brokers: readonly string[],
    private readonly flushAtCheckpoint: boolean,
  ) {}

  async write(records: readonly T[]): Promise<void> {
    if (this.producer === undefined) {
      const producer = this.kafka.producer({ idempotent: this.flushAtCheckpoint, maxInFlightRequests: this.flushAtCheckpoint ? 1 : 5, allowAutoTopicCreation: false });
      try {
        await producer.connect();
      } catch (e) {
        throw kafkaError(e, this.brokers, "connecting the producer", this.context.operatorName);
      }
      this.producer = producer;
      const topic = this.options.topic;
      this.sender = new OrderedSender((messages) => producer.send({ topic, messages }));
    }
    const value = this.options.value ?? ((r: T) => JSON.stringify(r));
    try {
      await this.sender!.add(records.map((r) => toMessage(r, this.options.key, value, this.options.headers)));
    } catch (e) {
      throw kafkaError(e, this.brokers, "sending", this.context.operatorName);
    }
  }

  private async flush(): Promise<void> {
    try {
      await this.sender?.flush();
    } catch (e) {
      throw kafkaError(e, this.brokers, "sending", this.context.operatorName);
    }
  }

  async preCommit(): Promise<readonly never[]> {
    if (this.flushAtCheckpoint) await this.flush();
    return [];
  }

  commit = async () => undefined;

  async close(): Promise<void> {
    await this.sender?.flush().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
  }
}

/** Writes records to a Kafka topic; see the modes above. */
export const toKafka = <T>(options: KafkaSinkOptions<T>): Sink<T, TransactionHandle> => {
  const brokers = brokerList(options.brokers);
  const mode = options.mode ?? "exactly-once";
  const name0 = options.name ?? "kafka-sink";
  if (!["exactly-once", "at-least-once", "none"].includes(mode)) {
    throw userError("KAFKA_BAD_MODE", `Kafka sink '${name0}': mode must be exactly-once, at-least-once or none, got '${String(mode)}'`);
  }
  if (options.transactionTimeoutMs !== undefined && !(Number.isInteger(options.transactionTimeoutMs) && options.transactionTimeoutMs > 0)) {
    throw userError("KAFKA_TXN_TIMEOUT_INVALID", `Kafka sink '${name0}': transactionTimeoutMs must be a positive integer (ms)`);
  }
  const timeoutMs = options.transactionTimeoutMs ?? DEFAULT_TXN_TIMEOUT_MS;
  const name = name0;
  const prefixFor = (job: string, operator: string) => options.transactionalIdPrefix ?? `weir-${job}-${operator}`;
  return {
    name,
    async createWriter(context) {
      const kafka = createKafka({ brokers, clientId: `weir-${context.jobName}-${context.operatorName}-${context.subtask}` });
      if (mode !== "exactly-once") return new PlainWriter<T>(kafka, options, context, brokers, mode === "at-least-once") as SinkWriter<T, TransactionHandle>;
      if (context.subtask === 0) await validateTimeout(kafka, brokers, timeoutMs, context.checkpointIntervalMs, context.operatorName);
      const bridge = new TransactionBridge(kafka, { brokers, transactionTimeoutMs: timeoutMs });
      return new ExactlyOnceWriter<T>(kafka, bridge, options, context, prefixFor(context.jobName, context.operatorName), brokers, timeoutMs);
    },
    async recover(handles, context: RecoveryContext) {
      if (mode !== "exactly-once") return;
      const kafka = createKafka({ brokers, clientId: `weir-${context.jobName}-${context.operatorName}-recovery` });
      const bridge = new TransactionBridge(kafka, { brokers, transactionTimeoutMs: timeoutMs });
      try {
        await commitAll(bridge, handles, context.operatorName);
        await fenceLingering(bridge, prefixFor(context.jobName, context.operatorName), context);
      } catch (e) {
        throw kafkaError(e, brokers, "recovering transactions", context.operatorName);
      } finally {
        await bridge.close();
      }
    },
  };
};

/**
 * Aborts and fences every transaction earlier runs may have left open. A writer's transactional
 * ids use consecutive sequence numbers, so probing upwards from the first one not covered by the
 * checkpoint until an id that was never used (epoch 0) reaches every id the run opened.
 */
const fenceLingering = async (bridge: TransactionBridge, prefix: string, context: RecoveryContext): Promise<void> => {
  const startAt = new Map<string, number>();
  for (const state of context.writerStates as KafkaWriterState[]) startAt.set(`${state.runId}/${state.subtask}`, state.nextSeq);
  for (const run of context.previousRuns) {
    for (let subtask = 0; subtask < run.parallelism; subtask++) {
      for (let seq = startAt.get(`${run.runId}/${subtask}`) ?? 0; ; seq++) {
        const identity = await bridge.fence(transactionalId(prefix, run.runId, subtask, seq));
        if (identity.producerEpoch === 0) break; // never used: this writer opened nothing beyond
      }
    }
  }
};
