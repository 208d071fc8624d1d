/**
 * A subtask's record writer: sends its chain's output to every downstream consumer, routing
 * each record by the edge's mode: point-wise, by key group (hash), by the user's partitioner
 * (custom), to every channel (broadcast: the same batch, records shared), or round-robin by batch
 * (round-robin over every consumer; rescale over this subtask's share, edge-wiring.ts).
 * Control elements (end, barriers, watermarks) go to every channel. Record timestamps
 * (operators/timestamps.ts) stay with their records: a batch split by key, by partitioner or by
 * dropping side records splits its timestamps the same way.
 *
 * `emit` returns undefined when every push fit; otherwise a promise that settles once all did
 * (backpressure).
 */
import { keyGroupFor, subtaskForKeyGroup } from "../state/key-groups.ts";
import type { ChannelWriter } from "./channel.ts";
import { batchOf, type StreamElement } from "./elements.ts";
import type { ChainEdgeMode } from "./plan.ts";
import type { Partitioning } from "./graph.ts";
import { requireSync, userFunctionError } from "../operators/user-error.ts";
import { isSideRecord, mainRecords } from "../operators/side-output.ts";
import { userError } from "../common/errors.ts";
import { detachedTaskMetrics, timed, type TaskMetrics } from "./task-metrics.ts";

export interface OutputTarget {
  readonly mode: ChainEdgeMode;
  readonly partitioning: Partitioning;
  /** One channel per consumer subtask (exactly one for point-wise). */
  readonly channels: readonly ChannelWriter<unknown>[];
  /** Name of the consuming operator, for errors raised while routing (the key selector). */
  readonly consumerName: string;
  /** Drop side records on this edge (ChainOutput.mainOnly). */
  readonly mainOnly?: boolean;
}

export class Output {
  private readonly targets: readonly OutputTarget[];
  private readonly maxParallelism: number;
  /** Per target: how many batches its round-robin (or rescale) turn has sent, so each target balances on its own. */
  private readonly turns: number[];
  /** Records out, time backpressured and the last watermark sent, of the subtask that owns this output. */
  private readonly metrics: TaskMetrics;

  constructor(targets: readonly OutputTarget[], maxParallelism: number, metrics: TaskMetrics = detachedTaskMetrics()) {
    this.targets = targets;
    this.turns = targets.map(() => 0);
    this.maxParallelism = maxParallelism;
    this.metrics = metrics;
  }

  get channelCount(): number {
    return this.targets.reduce((n, t) => n + t.channels.length, 0);
  }

  /** Sends a batch (and its records' timestamps, undefined: none) to every target. */
  emit(all: readonly unknown[], allTimestamps?: readonly number[]): Promise<void> | undefined {
    if (all.length === 0) return undefined;
    if (this.targets.length > 0) this.metrics.recordsOut += all.length;
    let records = all;
    let timestamps = allTimestamps;
    let pending: Promise<void>[] | undefined;
    const send = (channel: ChannelWriter<unknown>, element: StreamElement<unknown>) => {
      const p = channel.push(element);
      if (p !== undefined) (pending ??= []).push(p);
    };
    let main: Stamped | undefined;
    for (let t = 0; t < this.targets.length; t++) {
      const target = this.targets[t]!;
      const channels = target.channels;
      if (target.mainOnly === true) {
        main ??= mainOf(all, allTimestamps);
        if (main.records.length === 0) continue;
        records = main.records;
        timestamps = main.timestamps;
      } else {
        records = all;
        timestamps = allTimestamps;
      }
      const mode = target.mode;
      if (mode === "broadcast") {
        const batch = batchOf(records, timestamps);
        for (const channel of channels) send(channel, batch);
      } else if (mode === "custom" || (mode === "hash" && channels.length > 1)) {
        const parts = mode === "hash" ? this.partitionByKey(target, records, timestamps) : partitionCustom(target, records, timestamps);
        for (let j = 0; j < parts.length; j++) {
          const part = parts[j];
          if (part !== undefined) send(channels[j]!, batchOf(part.records, part.timestamps));
        }
      } else if (channels.length === 1) {
        send(channels[0]!, batchOf(records, timestamps));
      } else {
        // round-robin or rescale: whole batches in turn over this subtask's channels.
        send(channels[this.turns[t]!++ % channels.length]!, batchOf(records, timestamps));
      }
    }
    if (pending === undefined) return undefined;
    return timed(pending.length === 1 ? pending[0]! : Promise.all(pending).then(() => undefined), this.metrics, "backpressuredMs");
  }

  /** Splits a batch by its records' key groups (one part per channel). */
  private partitionByKey(target: OutputTarget, records: readonly unknown[], timestamps: readonly number[] | undefined): (Part | undefined)[] {
    if (target.partitioning.kind !== "hash") throw new Error("unreachable: hash edge without key selector");
    const key = target.partitioning.key;
    const n = target.channels.length;
    const parts: (Part | undefined)[] = new Array(n);
    let i = 0;
    try {
      for (; i < records.length; i++) {
        const j = subtaskForKeyGroup(keyGroupFor(requireSync(key(records[i])), this.maxParallelism), n, this.maxParallelism);
        addTo(parts, j, records, timestamps, i);
      }
    } catch (e) {
      throw userFunctionError(`${target.consumerName} (key selector)`, records[i], i, e);
    }
    return parts;
  }

  /** Sends a control element to every consumer channel (of every edge mode, broadcast or not). */
  broadcast(element: StreamElement<never>): Promise<void> | undefined {
    if (element.kind === "watermark") this.metrics.watermark = element.timestamp;
    let pending: Promise<void>[] | undefined;
    for (const target of this.targets) {
      for (const channel of target.channels) {
        const p = channel.push(element);
        if (p !== undefined) (pending ??= []).push(p);
      }
    }
    return pending === undefined ? undefined : timed(Promise.all(pending).then(() => undefined), this.metrics, "backpressuredMs");
  }
}

/** Records with their timestamps (undefined: none). */
interface Stamped {
  readonly records: unknown[] | readonly unknown[];
  readonly timestamps: number[] | readonly number[] | undefined;
}

/** The main records of a batch (side records dropped), with their timestamps. */
const mainOf = (records: readonly unknown[], timestamps: readonly number[] | undefined): Stamped => {
  if (timestamps === undefined) return { records: mainRecords(records), timestamps };
  const main: unknown[] = [];
  const stamps: number[] = [];
  for (let i = 0; i < records.length; i++) {
    if (isSideRecord(records[i])) continue;
    main.push(records[i]);
    stamps.push(timestamps[i]!);
  }
  return { records: main, timestamps: stamps };
};

/** One channel's share of a batch, timestamps in step with records (undefined: none). */
interface Part {
  readonly records: unknown[];
  readonly timestamps: number[] | undefined;
}

/** Adds record `i` (and its timestamp) to channel `j`'s part. */
const addTo = (parts: (Part | undefined)[], j: number, records: readonly unknown[], timestamps: readonly number[] | undefined, i: number): void => {
  const part = (parts[j] ??= { records: [], timestamps: timestamps === undefined ? undefined : [] });
  part.records.push(records[i]);
  if (timestamps !== undefined) part.timestamps!.push(timestamps[i]!);
};

/**
 * Splits `records` by the user's partitioner (partitionCustom): a key selector and a function of
 * (key, number of partitions). A throw, or a result that is not an integer in 0..n-1, fails the
 * job with a user error naming the consuming operator and the record.
 */
const partitionCustom = (target: OutputTarget, records: readonly unknown[], timestamps: readonly number[] | undefined): (Part | undefined)[] => {
  if (target.partitioning.kind !== "custom") throw new Error("unreachable: custom edge without partitioner");
  const { key, partitioner } = target.partitioning;
  const n = target.channels.length;
  const parts: (Part | undefined)[] = new Array(n);
  let i = 0;
  try {
    for (; i < records.length; i++) {
      const k = requireSync(key(records[i]));
      const j = requireSync(partitioner(k, n));
      if (!Number.isInteger(j) || j < 0 || j >= n) throw badPartition(target.consumerName, j, n, k);
      addTo(parts, j, records, timestamps, i);
    }
  } catch (e) {
    throw userFunctionError(`${target.consumerName} (partitionCustom)`, records[i], i, e);
  }
  return parts;
};

const show = (v: unknown): string => {
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

const badPartition = (operator: string, returned: unknown, n: number, key: unknown) =>
  userError(
    "BAD_PARTITION",
    `the partitionCustom partitioner feeding operator '${operator}' returned ${show(returned)} for key ${show(key)}; it must return an integer partition in 0..${n - 1} (${n} is the operator's parallelism)`,
    { operator },
  );
