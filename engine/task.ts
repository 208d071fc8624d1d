/**
 * The two kinds of subtask loop.
 *
 * Source subtasks read their splits round-robin, a batch at a time, and push each batch
 * through their chain; a full downstream channel makes the push wait, so the source stops
 * reading (backpressure). They yield to the event loop every few milliseconds so timers and I/O
 * (progress, signals) keep running while the pipeline is busy.
 *
 * Input subtasks take elements from their input gate and process batches until every input
 * channel has delivered `end`.
 */
import type { Source, SourceContext, SplitReader } from "../connectors/source.ts";
import { isWeirError, userError, describeError } from "../common/errors.ts";
import type { ChainRunner } from "./chain-runner.ts";
import type { InputGate } from "./input-gate.ts";
import type { JobMetrics } from "./metrics.ts";

/** The final checkpoint id a bounded run commits its sinks under (until checkpoints number them). */
export const FINAL_CHECKPOINT_ID = 1;

const YIELD_EVERY_MS = 8;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface SourceTaskOptions {
  readonly source: Source<unknown, unknown>;
  readonly sourceName: string;
  readonly splits: readonly string[];
  readonly chain: ChainRunner;
  readonly batchSize: number;
  readonly context: SourceContext;
  readonly metrics: JobMetrics;
  readonly cancelled: () => boolean;
}

const openError = (sourceName: string, split: string, e: unknown) =>
  isWeirError(e)
    ? e.withContext({ operator: sourceName })
    : userError("SOURCE_OPEN_FAILED", `source '${sourceName}' could not open split '${split}': ${describeError(e)}`, {
        operator: sourceName,
        cause: e,
      });

export const runSourceTask = async (options: SourceTaskOptions): Promise<void> => {
  const { source, chain, batchSize, metrics, cancelled } = options;
  const readers: SplitReader<unknown, unknown>[] = [];
  try {
    for (const split of options.splits) {
      try {
        readers.push(await source.openReader(split, undefined, options.context));
      } catch (e) {
        throw openError(options.sourceName, split, e);
      }
    }
    await chain.open();
    let active = readers.slice();
    let lastYield = performance.now();
    while (active.length > 0 && !cancelled()) {
      let progressed = false;
      let wait = Infinity;
      const stillActive: SplitReader<unknown, unknown>[] = [];
      for (const reader of active) {
        let result = reader.read(batchSize);
        if (result instanceof Promise) result = await result;
        if (result.kind === "end") continue;
        stillActive.push(reader);
        if (result.kind === "idle") {
          wait = Math.min(wait, result.retryAfterMs);
          continue;
        }
        if (result.records.length === 0) continue;
        progressed = true;
        metrics.sourceRecords += result.records.length;
        const pushed = chain.process(result.records);
        if (pushed !== undefined) {
          const blockedFrom = performance.now();
          await pushed;
          metrics.sourceBlockedMs += performance.now() - blockedFrom;
        }
      }
      active = stillActive;
      if (!progressed && active.length > 0) {
        await sleep(Number.isFinite(wait) ? Math.max(1, wait) : 1);
        lastYield = performance.now();
      } else if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    if (!cancelled()) await chain.endInput(FINAL_CHECKPOINT_ID);
  } finally {
    for (const reader of readers) await reader.close();
  }
};

export interface InputTaskOptions {
  readonly gate: InputGate<unknown>;
  readonly chain: ChainRunner;
}

export const runInputTask = async (options: InputTaskOptions): Promise<void> => {
  const { gate, chain } = options;
  await chain.open();
  let open = gate.channelCount;
  while (open > 0) {
    let next = gate.take();
    if (next instanceof Promise) next = await next;
    const element = next.element;
    switch (element.kind) {
      case "batch": {
        const pending = chain.process(element.records);
        if (pending !== undefined) await pending;
        break;
      }
      case "end":
        gate.finish(next.channel);
        open--;
        break;
      case "watermark":
      case "barrier":
        // Forwarded once event time and checkpoints exist; nothing emits them yet.
        break;
    }
  }
  await chain.endInput(FINAL_CHECKPOINT_ID);
};
