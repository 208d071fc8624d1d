/**
 * The main thread's side of a run on worker threads: starts W workers, gives each its slots and the
 * shared rings of the channels that cross threads, stands in for their subtasks towards the
 * checkpoint driver (one `DriverTask` proxy per subtask), adds up their metrics, and supervises them.
 *
 * Failure behaviour: `run()` rejects with the first failure: a subtask's error (rebuilt with its
 * code, domain and retriability), an uncaught error in a worker, or a worker that exited. `close()`
 * asks every worker to tear down, waits for its `closed` (at most CLOSE_DEADLINE_MS) and terminates it.
 */
import type { Worker } from "node:worker_threads";
import type { CheckpointDriver, DriverTask } from "../../checkpoint/driver.ts";
import { describeError, internalError } from "../../common/errors.ts";
import { startTsWorker } from "../../common/ts-worker.ts";
import { allocateRing } from "../exchange/spsc-ring.ts";
import { ringBytesFor } from "../exchange/ring-channel.ts";
import { countersOf, newJobMetrics, type JobMetrics } from "../metrics.ts";
import type { JobPlan } from "../plan.ts";
import type { RunPhase } from "../runtime.ts";
import { channelAddresses, crossesThreads, planShape, slotCount, slotsOf } from "./placement.ts";
import { channelKey, deserializeError, type FromWorker, type ToWorker, type WorkerCounters, type WorkerJobSource, type WorkerRunSettings } from "./protocol.ts";

export type { WorkerJobSource } from "./protocol.ts";

const CLOSE_DEADLINE_MS = 15_000;

/** A started worker thread whose events (messages, error, exit) wait in a queue until a pool takes them. */
interface Thread {
  readonly worker: Worker;
  attach(handler: (event: ThreadEvent) => void): void;
}

type ThreadEvent = { readonly kind: "message"; readonly message: FromWorker } | { readonly kind: "error"; readonly error: Error } | { readonly kind: "exit"; readonly code: number };

/**
 * Worker threads started ahead of the run's set-up (they load the TypeScript loader, the engine and
 * the job module, about half a second each, while the main thread recovers sinks). Hand them to
 * `startWorkerPool`, or `terminate()` them if the run ends before.
 */
export interface SpawnedWorkers {
  readonly threads: readonly Thread[];
  terminate(): Promise<void>;
}

export const spawnWorkers = (count: number, job: WorkerJobSource): SpawnedWorkers => {
  const threads: Thread[] = [];
  for (let w = 0; w < count; w++) {
    const worker = startTsWorker(new URL("./worker-main.ts", import.meta.url), { name: `weir-worker-${w}`, workerData: { jobFile: job.file } });
    const queued: ThreadEvent[] = [];
    let handler: ((event: ThreadEvent) => void) | undefined;
    const dispatch = (event: ThreadEvent) => (handler === undefined ? queued.push(event) : handler(event));
    worker.on("message", (message: FromWorker) => dispatch({ kind: "message", message }));
    worker.on("error", (error: Error) => dispatch({ kind: "error", error }));
    worker.on("exit", (code: number) => dispatch({ kind: "exit", code }));
    threads.push({
      worker,
      attach: (h) => {
        handler = h;
        for (const event of queued.splice(0)) h(event);
      },
    });
  }
  return { threads, terminate: async () => void (await Promise.all(threads.map((t) => t.worker.terminate()))) };
};

export interface WorkerPoolOptions {
  readonly spawned: SpawnedWorkers;
  readonly plan: JobPlan;
  readonly job: WorkerJobSource;
  readonly init: WorkerRunSettings;
  readonly driver: CheckpointDriver;
  /** The run's metrics: the workers' counters are summed into it. */
  readonly metrics: JobMetrics;
  readonly log: (line: string) => void;
  readonly onPhase: (phase: RunPhase) => void;
  readonly sourceFinished: () => void;
}

export interface WorkerPool {
  /** One stand-in per subtask, for `driver.start`. */
  readonly tasks: readonly DriverTask[];
  /** Starts every subtask; rejects with the first failure (it never resolves otherwise). */
  run(): Promise<never>;
  close(): Promise<void>;
}

interface Pending {
  resolve(): void;
  reject(e: Error): void;
}

/** Starts the workers and waits until each has created its subtasks (or the first fails). */
export const startWorkerPool = async (options: WorkerPoolOptions): Promise<WorkerPool> => {
  const { plan, driver, metrics } = options;
  const slots = slotCount(plan);
  const count = options.spawned.threads.length;
  if (count < 1 || count > slots) throw internalError("BAD_WORKER_COUNT", `${count} worker threads for ${slots} slots`);
  const crossing = channelAddresses(plan).filter((a) => crossesThreads(plan, a, count));
  const ringBytes = ringBytesFor(crossing.length);
  const rings: Record<string, SharedArrayBuffer> = {};
  for (const a of crossing) rings[channelKey(a)] = allocateRing({ capacityBytes: ringBytes });

  const base = { ...metrics, stateCache: { ...metrics.stateCache } };
  const latest: WorkerCounters[] = [];
  const sum = () => {
    const add = (f: (c: WorkerCounters) => number) => latest.reduce((n, c) => n + f(c), 0);
    metrics.sourceRecords = base.sourceRecords + add((c) => c.sourceRecords);
    metrics.sourceSkipped = base.sourceSkipped + add((c) => c.sourceSkipped);
    metrics.sourceDeadLettered = base.sourceDeadLettered + add((c) => c.sourceDeadLettered);
    metrics.sinkRecords = base.sinkRecords + add((c) => c.sinkRecords);
    metrics.sourceBlockedMs = base.sourceBlockedMs + add((c) => c.sourceBlockedMs);
    metrics.sourceSubtasks = base.sourceSubtasks + add((c) => c.sourceSubtasks);
    metrics.stateCache.hits = base.stateCache.hits + add((c) => c.stateCache.hits);
    metrics.stateCache.misses = base.stateCache.misses + add((c) => c.stateCache.misses);
    metrics.stateCache.evictions = base.stateCache.evictions + add((c) => c.stateCache.evictions);
    metrics.stateCache.evictionWrites = base.stateCache.evictionWrites + add((c) => c.stateCache.evictionWrites);
    metrics.tasks = latest.flatMap((c) => c.tasks);
  };

  let failWith: (e: Error) => void = () => undefined;
  let firstFailure: Error | undefined;
  const failed = new Promise<never>((_, reject) => {
    failWith = (e) => {
      firstFailure ??= e;
      reject(firstFailure);
    };
  });
  failed.catch(() => undefined);

  let seq = 0;
  /** Per worker: its requests not answered yet, by sequence number. */
  const requests: Map<number, Pending>[] = [];
  /** Warning lines already logged: every worker builds the same operators and would warn once each. */
  const warned = new Set<string>();
  const closedWaiters: (() => void)[] = [];
  const closedOf: Promise<void>[] = [];
  const workers: Worker[] = [];
  const exited: boolean[] = [];
  const ready: Promise<readonly string[]>[] = [];
  let closing = false;

  for (let w = 0; w < count; w++) {
    const thread = options.spawned.threads[w]!;
    requests.push(new Map());
    const worker = thread.worker;
    workers.push(worker);
    exited.push(false);
    latest.push(countersOf(newJobMetrics(0)));
    let markReady: (tasks: readonly string[]) => void = () => undefined;
    ready.push(new Promise((resolve) => (markReady = resolve)));
    closedOf.push(new Promise<void>((resolve) => closedWaiters.push(resolve)));
    const onMessage = (message: FromWorker) => {
      switch (message.type) {
        case "ready":
          markReady(message.tasks);
          return;
        case "failed":
          failWith(deserializeError(message.error));
          return;
        case "reply": {
          const request = requests[w]!.get(message.seq);
          requests[w]!.delete(message.seq);
          if (message.error === undefined) request?.resolve();
          else request?.reject(deserializeError(message.error));
          return;
        }
        case "ack":
          driver.ack(message.id, message.snapshot);
          return;
        case "decline":
          driver.decline(message.id, message.task, message.reason);
          return;
        case "source-finished":
          options.sourceFinished();
          return;
        case "metrics":
          latest[w] = message.counters;
          sum();
          return;
        case "log":
          if (message.line.startsWith("warning: ")) {
            if (warned.has(message.line)) return;
            warned.add(message.line);
          }
          options.log(message.line);
          return;
        case "phase":
          options.onPhase(message.phase);
          return;
        case "closed":
          closedWaiters[w]!();
          return;
      }
    };
    const onError = (e: Error) => {
      failWith(internalError("WORKER_FAILED", `worker thread ${w} failed: ${describeError(e)}`, { cause: e }));
    };
    const onExit = (code: number) => {
      exited[w] = true;
      closedWaiters[w]!();
      if (!closing) failWith(internalError("WORKER_EXITED", `worker thread ${w} exited (code ${code}) while the job ran`));
      for (const request of requests[w]!.values()) request.reject(internalError("WORKER_EXITED", `worker thread ${w} exited before answering`));
      requests[w]!.clear();
    };
    thread.attach((event) => (event.kind === "message" ? onMessage(event.message) : event.kind === "error" ? onError(event.error) : onExit(event.code)));
    const init: ToWorker = {
      type: "init",
      worker: w,
      workers: count,
      slots: slotsOf(w, count, slots),
      job: options.job,
      settings: options.init,
      planShape: planShape(plan),
      rings,
    };
    worker.postMessage(init);
  }

  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await Promise.all(
      workers.map(async (worker, w) => {
        if (exited[w]) return;
        worker.postMessage({ type: "teardown" } satisfies ToWorker);
        const closed = closedOf[w]!;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_DEADLINE_MS)))]);
        clearTimeout(timer);
        await worker.terminate();
      }),
    );
  };

  let taskIds: (readonly string[])[];
  try {
    taskIds = await Promise.race([Promise.all(ready), failed]);
  } catch (e) {
    await close();
    throw e;
  }

  const request = (w: number, make: (seq: number) => ToWorker): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (exited[w]) {
        reject(internalError("WORKER_EXITED", `worker thread ${w} has exited`));
        return;
      }
      const id = ++seq;
      requests[w]!.set(id, { resolve, reject });
      workers[w]!.postMessage(make(id));
    });

  const tasks: DriverTask[] = taskIds.flatMap((ids, w) =>
    ids.map(
      (id): DriverTask => ({
        id,
        // Posted, not awaited: every worker gets its triggers at once instead of one round trip per
        // task in turn (messages to one worker keep their order, so a later abort or commit still
        // comes after). A trigger that fails fails the run.
        onTrigger: (checkpoint, stop) => {
          request(w, (s) => ({ type: "trigger", seq: s, task: id, id: checkpoint, stop, triggeredAt: driver.triggeredAtOf(checkpoint) })).catch(
            (e: unknown) => failWith(e instanceof Error ? e : new Error(String(e))),
          );
          return Promise.resolve();
        },
        notifyComplete: (checkpoint) => request(w, (s) => ({ type: "complete", seq: s, task: id, id: checkpoint })),
        onAbort: (checkpoint) => {
          if (!exited[w]) workers[w]!.postMessage({ type: "abort", id: checkpoint } satisfies ToWorker);
        },
      }),
    ),
  );

  return {
    tasks,
    run: () => {
      for (const worker of workers) worker.postMessage({ type: "run" } satisfies ToWorker);
      return failed;
    },
    close,
  };
};
