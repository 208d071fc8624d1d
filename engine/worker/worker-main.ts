/**
 * A worker thread's side of a run (started by worker-pool.ts through common/ts-worker.ts): loads
 * the job module, builds the plan, creates the subtasks of its slots (subtask-factory.ts) with
 * in-thread channels for edges inside the thread and ring channels for edges that cross, and runs
 * them. The checkpoint bridge is message-shaped: triggers and completions come from the main
 * thread's driver, acks and declines go back to it (protocol.ts).
 *
 * Failure behaviour: the first failure of a subtask (or of the start-up) is posted as `failed` with
 * its error serialised; the main thread then tears every worker down. Teardown stops the
 * subtasks, releases readers, closes writers and state backends, and answers `closed`; the main
 * thread terminates the worker after that (or after a deadline, if closing hangs).
 */
import { parentPort, workerData } from "node:worker_threads";
import { systemClock } from "../../common/clock.ts";
import { describeError, userError } from "../../common/errors.ts";
import { checkpointPath, jobRoot } from "../../checkpoint/storage.ts";
import { Channel, type ChannelReader, type ChannelWriter } from "../channel.ts";
import { RingChannelReader, RingChannelWriter } from "../exchange/ring-channel.ts";
import { buildJob } from "../job.ts";
import { applyVerifyHook } from "../verify/instrument.ts";
import { countersOf, newJobMetrics } from "../metrics.ts";
import { paramsFrom } from "../params.ts";
import { planJob } from "../plan.ts";
import { createSubtasks, type ChannelAddress, type CreatedSubtasks } from "../subtask-factory.ts";
import type { CheckpointBridge } from "../subtask.ts";
import { loadJob } from "../cli/load-job.ts";
import { channelKey, serializeError, type FromWorker, type InitMessage, type ToWorker, type WorkerCounters } from "./protocol.ts";
import { planShape } from "./placement.ts";

const METRICS_EVERY_MS = 50; // as often as WEIR_METRICS_FILE samples

const port = parentPort;
if (port === null) throw new Error("engine/worker/worker-main.ts runs only in a worker thread");
const post = (message: FromWorker) => port.postMessage(message);

// The job module loads while the main thread still sets the run up (worker-pool.ts spawnWorkers).
const loading = loadJob((workerData as { jobFile: string }).jobFile);
loading.catch(() => undefined); // reported by init

const created: CreatedSubtasks = { tasks: [], runners: [], backends: [] };
const pending = new Map<number, number>(); // checkpoint id -> triggered at
const teardown = new AbortController();
let failed = false;
let tornDown = false;
let metricsTimer: NodeJS.Timeout | undefined;
/** This thread's counters, summed over its subtasks (posted to the main thread). */
const metrics = newJobMetrics(Date.now());
const counters = (): WorkerCounters => countersOf(metrics);

const fail = (e: unknown) => {
  if (failed || tornDown) return;
  failed = true;
  post({ type: "failed", error: serializeError(e) });
};

const taskById = (id: string) => {
  const task = created.tasks.find((t) => t.id === id);
  if (task === undefined) throw new Error(`worker has no task ${id}`);
  return task;
};

const init = async (message: InitMessage): Promise<void> => {
  const { job: source, settings } = message;
  const definition = await loading;
  const built = applyVerifyHook(buildJob(definition, { params: paramsFrom(source.params), parallelism: source.parallelism }));
  const plan = planJob(built);
  if (planShape(plan) !== message.planShape) {
    throw userError(
      "WORKER_PLAN_DIFFERS",
      `job file ${source.shownAs ?? source.file} built a different graph in worker thread ${message.worker} than in the main thread: a job must build the same graph from the same parameters (no randomness or clock in the graph); run with --workers 0 to run it on one thread`,
      { jobFile: source.shownAs ?? source.file },
    );
  }
  const root = jobRoot(settings.checkpointRoot, built.name);
  const bridge: CheckpointBridge = {
    directory: (id) => checkpointPath(settings.checkpointRoot, built.name, id),
    root,
    triggeredAt: (id) => pending.get(id) ?? Date.now(),
    pendingIds: () => [...pending.keys()],
    ack: (id, snapshot) => post({ type: "ack", id, snapshot }),
    decline: (id, task, reason) => post({ type: "decline", id, task, reason }),
    now: () => Date.now(),
  };
  const local = new Map<string, Channel<unknown>>();
  const ring = (a: ChannelAddress) => message.rings[channelKey(a)];
  const inThread = (a: ChannelAddress) => {
    const key = channelKey(a);
    let channel = local.get(key);
    if (channel === undefined) local.set(key, (channel = new Channel<unknown>(settings.channelCapacity)));
    return channel;
  };
  const consumerName = (a: ChannelAddress) => plan.chains[a.toChain]!.nodes[0]!.name;
  const channels = {
    writer: (a: ChannelAddress): ChannelWriter<unknown> => {
      const sab = ring(a);
      return sab === undefined ? inThread(a) : new RingChannelWriter(sab, { signal: teardown.signal, consumerName: consumerName(a) });
    },
    reader: (a: ChannelAddress): ChannelReader<unknown> => {
      const sab = ring(a);
      return sab === undefined ? inThread(a) : new RingChannelReader(sab, { signal: teardown.signal });
    },
  };
  await createSubtasks(
    {
      ...settings,
      plan,
      clock: systemClock,
      log: (line) => post({ type: "log", line }),
      onPhase: (phase) => post({ type: "phase", phase }),
      metrics,
      bridge,
      channels,
      splitsOf: (name) => {
        const splits = settings.splits[name];
        if (splits === undefined) throw new Error(`no splits listed for source '${name}'`);
        return Promise.resolve(splits);
      },
      cancelled: () => failed || tornDown,
      sourceFinished: () => post({ type: "source-finished" }),
    },
    message.slots,
    created,
  );
  metricsTimer = setInterval(() => post({ type: "metrics", counters: counters() }), METRICS_EVERY_MS);
  metricsTimer.unref();
  post({ type: "ready", tasks: created.tasks.map((t) => t.id) });
};

const run = () => {
  for (const task of created.tasks) task.run().catch(fail);
};

const close = async (): Promise<void> => {
  tornDown = true;
  teardown.abort();
  if (metricsTimer !== undefined) clearInterval(metricsTimer);
  for (const task of created.tasks) await task.release().catch(() => undefined);
  for (const task of created.tasks) await task.closeSideSinks();
  for (const runner of created.runners) await runner.close();
  for (const backend of created.backends) await backend.close().catch(() => undefined);
  post({ type: "metrics", counters: counters() });
  // What the worker printed (a print sink, console.log) reaches the main thread asynchronously:
  // let it drain before the main thread terminates this thread.
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write("", () => resolve()))));
  post({ type: "closed" });
};

/** Answers a request; its failure goes back to the driver (which fails the run). */
const reply = (seq: number, work: () => Promise<void>) => {
  Promise.resolve().then(work).then(
    () => post({ type: "reply", seq }),
    (e: unknown) => post({ type: "reply", seq, error: serializeError(e) }),
  );
};

port.on("message", (message: ToWorker) => {
  switch (message.type) {
    case "init":
      init(message).catch(fail);
      return;
    case "run":
      run();
      return;
    case "trigger":
      pending.set(message.id, message.triggeredAt);
      reply(message.seq, () => taskById(message.task).onTrigger(message.id, message.stop));
      return;
    case "complete":
      reply(message.seq, async () => {
        await taskById(message.task).notifyComplete(message.id);
        pending.delete(message.id);
      });
      return;
    case "abort":
      pending.delete(message.id);
      return;
    case "teardown":
      close().catch((e: unknown) => {
        post({ type: "log", line: `a worker thread could not close cleanly: ${describeError(e)}` });
        post({ type: "closed" });
      });
      return;
  }
});
