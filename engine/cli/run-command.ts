/**
 * `weir run`: load the job module, pick what to resume from, run it with checkpoints, restart it
 * from the latest checkpoint after a failure (per the restart strategy), stop it with a final
 * checkpoint on SIGINT/SIGTERM.
 */
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { slotCount } from "../worker/placement.ts";
import { WeirError, isWeirError, describeError } from "../../common/errors.ts";
import { formatDuration } from "../../common/duration.ts";
import { buildJob, type BuiltJob } from "../job.ts";
import { paramsFrom, parseParamArgs } from "../params.ts";
import { applyVerifyHook } from "../verify/instrument.ts";
import { planJob } from "../plan.ts";
import { missingWatermarks } from "../watermark-check.ts";
import { runJob, type CheckpointControl, type JobResult, type StateBackendKind } from "../runtime.ts";
import { loadJob } from "./load-job.ts";
import { formatDropped, startProgress } from "./progress.ts";
import { recordMetrics, type MetricsRecorder } from "./metrics-file.ts";
import { startTimeline } from "./timeline-file.ts";
import { chooseStart } from "./resume.ts";
import { lockJob } from "./job-lock.ts";
import { decideRestart, type RestartStrategy } from "./restart.ts";
import { paramChanges } from "./param-changes.ts";
import { watchLauncher } from "./launcher-watch.ts";
import { sideSinksOf } from "../side-sinks.ts";
import type { Sink } from "../../connectors/sink.ts";
import { sleep, systemClock } from "../../common/clock.ts";
import { startStatusService, type StatusService } from "./status-service.ts";
import { SavepointRequests } from "./savepoint-requests.ts";
import { writeSavepoint } from "../../checkpoint/savepoint.ts";
import type { CompletedCheckpoint } from "../../checkpoint/driver.ts";
import { checkpointPath } from "../../checkpoint/storage.ts";

export interface RunFlags {
  readonly parallelism: number;
  readonly param: string[];
  readonly stateBackend: StateBackendKind;
  readonly stateDir?: string;
  readonly batchSize: number;
  /** Worker threads (undefined: the available cores, at most the number of slots; 0 at one slot). */
  readonly workers?: number;
  /** Keyed-state cells each operator subtask caches in front of the backend (default 200,000). */
  readonly stateCacheCells?: number;
  readonly progress: boolean;
  readonly progressInterval: number;
  readonly checkpointDir: string;
  readonly checkpointInterval: number;
  readonly checkpointTimeout: number;
  readonly retain: number;
  readonly fresh: boolean;
  readonly from?: string;
  /** Restore an older checkpoint even though sinks that cannot retract will write some output twice. */
  readonly allowDuplicateOutput?: boolean;
  /** On a start from the beginning, delete committed output of the job's earlier runs instead of refusing. */
  readonly overwriteOutput?: boolean;
  /** Drop restored state of operators the job no longer has instead of refusing. */
  readonly allowNonRestoredState?: boolean;
  readonly restart: RestartStrategy;
  /** The REST API and dashboard (default: on, 127.0.0.1:8081). */
  readonly ui?: boolean;
  readonly uiPort?: number;
  readonly uiHost?: string;
}

/**
 * Worker threads for a run: as asked (never more than the slots: a worker without a slot would
 * idle), or by default one per available core, at most one per slot, and none for a single slot
 * (one subtask per operator gains nothing from a thread of its own).
 */
export const workerCount = (asked: number | undefined, slots: number): number =>
  asked === undefined ? (slots <= 1 ? 0 : Math.min(availableParallelism(), slots)) : Math.min(asked, slots);

const say = (line: string) => void process.stderr.write(`weir: ${line}\n`);

export const runCommand = async (file: string, flags: RunFlags): Promise<void> => {
  const timeline = startTimeline(process.env["WEIR_TIMELINE_FILE"], say);
  const definition = await loadJob(file);
  const params = parseParamArgs(flags.param);
  let built: BuiltJob;
  try {
    built = applyVerifyHook(buildJob(definition, { params: paramsFrom(params), parallelism: flags.parallelism }));
  } catch (e) {
    if (isWeirError(e)) throw e.withContext({ jobFile: file });
    throw new WeirError(`job '${definition.name}' failed while building its graph: ${describeError(e)}`, {
      code: "JOB_BUILD_FAILED",
      domain: "user",
      jobFile: file,
      cause: e,
    });
  }
  const plan = planJob(built);
  const workers = workerCount(flags.workers, slotCount(plan));
  for (const line of missingWatermarks(built)) say(`warning: ${line}`);

  const stop = new AbortController();
  let signals = 0;
  const onSignal = (signal: string) => {
    signals++;
    if (signals === 1) {
      say(`${signal}: stopping '${built.name}' with a final checkpoint (send it again to exit at once)`);
      stop.abort();
    } else {
      process.exit(130);
    }
  };
  const lock = await lockJob(flags.checkpointDir, built.name);
  const cancel = new AbortController();
  let finalCheckpoint: CompletedCheckpoint | undefined;
  /** Where a stop asked for a savepoint, and the savepoint once written. */
  let stopSavepoint: { readonly target: string; path?: string } | undefined;
  const savepointDir = resolve(flags.checkpointDir, "..", "savepoints");
  let checkpointControl: CheckpointControl | undefined;
  const savepoints = new SavepointRequests(async (id, dir, target) => {
    const path = await writeSavepoint(dir, target, Date.now());
    say(`savepoint written to ${path}`);
    service.status.savepointTaken(id, path, Date.now());
    return path;
  });
  let service: StatusService;
  try {
    service = await startStatusService({
      plan,
      flags: { ui: flags.ui ?? true, uiPort: flags.uiPort ?? 8081, uiHost: flags.uiHost ?? "127.0.0.1" },
      checkpointDir: flags.checkpointDir,
      say,
      control: {
        stop: (target) => {
          // A savepoint asked with a stop already under way is still taken (of its final checkpoint).
          if (target !== undefined && stopSavepoint === undefined) stopSavepoint = { target: resolve(target) };
          if (stop.signal.aborted) return;
          say(`stop requested through the REST API: stopping '${built.name}' with a final checkpoint${target === undefined ? "" : ` and a savepoint in ${resolve(target)}`}`);
          stop.abort();
        },
        savepoint: (target) => {
          const afterId = Math.max(0, ...service.status.checkpoints.map((c) => c.id));
          const done = savepoints.add(afterId, resolve(target ?? savepointDir));
          checkpointControl?.requestCheckpoint();
          return done;
        },
        cancel: () => {
          if (cancel.signal.aborted) return;
          say(`cancel requested through the REST API: cancelling '${built.name}' without a checkpoint`);
          cancel.abort();
        },
        finalCheckpoint: () => stopSavepoint?.path ?? (finalCheckpoint === undefined ? undefined : checkpointPath(flags.checkpointDir, built.name, finalCheckpoint.id)),
      },
    });
  } catch (e) {
    await lock.release();
    throw e;
  }
  const status = service.status;
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // Under `npx`, a killed npm cannot forward its signal: stop as if it had sent SIGTERM.
  const launcher = await watchLauncher((pid) => onSignal(`the npm process that started weir (pid ${pid}) is gone`)).catch(async (e: unknown) => {
    await service.close();
    await lock.release();
    throw e;
  });

  try {
    let fresh = flags.fresh;
    let restartsInARow = 0;
    /** Waits before the next attempt, or throws the failure when the strategy gives up. */
    const restartAfter = async (e: unknown, started: number): Promise<void> => {
      const error = isWeirError(e) ? e.withContext({ jobFile: file }) : e;
      if (cancel.signal.aborted) throw error;
      if (stop.signal.aborted) {
        status.attemptFailed(error, false, Date.now());
        throw error;
      }
      const decision = decideRestart(flags.restart, { error, inARow: restartsInARow, ranForMs: Date.now() - started });
      status.attemptFailed(error, decision.kind !== "give-up", Date.now());
      if (decision.kind === "give-up") throw error;
      restartsInARow = decision.restart;
      const count = Number.isFinite(decision.limit) ? `restart ${decision.restart} of ${decision.limit}` : `restart ${decision.restart}`;
      say(
        `job '${built.name}' failed: ${describeError(error)}${isWeirError(error) ? ` (${error.code})` : ""}; restarting from the latest checkpoint in ${formatDuration(decision.delayMs)} (${count})`,
      );
      // A cancel ends the wait (the loop below then ends the run).
      await Promise.race([sleep(systemClock, decision.delayMs), new Promise((done) => cancel.signal.addEventListener("abort", done, { once: true }))]);
    };
    const cancelledNow = () => {
      status.ended("cancelled", Date.now());
      const resumeFrom = status.lastCompleted;
      say(
        `'${built.name}' cancelled${resumeFrom === undefined ? "" : `; its latest completed checkpoint is ${resumeFrom.id}`}: run the same command again to resume (output not yet committed is discarded)`,
      );
    };
    for (let attempt = 0; ; attempt++) {
      if (cancel.signal.aborted) return cancelledNow();
      timeline?.mark("job-loaded");
      const start = await chooseStart({ root: flags.checkpointDir, job: built.name, fresh, from: attempt === 0 ? flags.from : undefined, log: say });
      timeline?.mark("checkpoint-chosen", { checkpoint: start.found?.metadata.id ?? 0 });
      if (start.found?.metadata.final === true) {
        // The job already ran to its end. Make sure its last transactions are committed, then stop.
        const finished = `job '${built.name}' already finished (final checkpoint ${start.found.metadata.id}, ${new Date(start.found.metadata.completedAt).toISOString()})`;
        const plan0 = start.checkpoints.restore!;
        const allSinks = [
          ...built.nodes.flatMap((n) => (n.spec.kind === "sink" ? [{ operator: n.name, sink: n.spec.sink as Sink<unknown> }] : [])),
          ...sideSinksOf(built.nodes),
        ];
        /** Commits what the final checkpoint recorded; true if a sink found some of it discarded. */
        const commitFinal = async (): Promise<boolean> => {
          let someDiscarded = false;
          for (const { operator, sink } of allSinks) {
            if (sink.recover === undefined) continue;
            const report = await sink
              .recover(plan0.committables.get(operator) ?? [], {
                jobName: built.name,
                operatorName: operator,
                writerStates: plan0.writerStates.get(operator) ?? [],
                previousRuns: [],
              })
              .catch((e: unknown) => {
                // e.g. its output was deleted since: say what the user is looking at.
                throw isWeirError(e) ? new WeirError(`${finished}, but ${e.message}`, { code: e.code, domain: e.domain, retriable: e.retriable, operator, cause: e }) : e;
              });
            if (report !== undefined && (report.aborted.length > 0 || report.unknown.length > 0)) someDiscarded = true;
          }
          return someDiscarded;
        };
        // Committing can fail like any run (a broker restarting): the restart strategy decides.
        const committing = Date.now();
        let discarded: boolean; // the broker discarded some of the final checkpoint's transactions
        try {
          discarded = await commitFinal();
        } catch (e) {
          await restartAfter(e, committing);
          continue;
        }
        // A final checkpoint whose transactions were discarded is restored like any other: recovery
        // (engine/recovery-decision.ts) falls back to the checkpoint before it, or says what is lost.
        if (!discarded) {
          const changed = paramChanges(start.found.metadata.params, params);
          say(
            changed.length === 0
              ? `${finished}; nothing to do. Run with --fresh to run it again.`
              : `${finished} with other parameters, so these were not used: ${changed.join(", ")}. Run with --fresh to run it anew with them.`,
          );
          status.ended("finished", Date.now());
          return;
        }
      }
      if (start.found !== undefined) {
        say(`resuming '${built.name}' from checkpoint ${start.found.metadata.id} (${start.found.dir})`);
        status.restored = { id: start.found.metadata.id, at: Date.now(), path: start.found.dir, savepoint: start.found.metadata.savepoint !== undefined };
        const changed = paramChanges(start.found.metadata.params, params);
        if (changed.length > 0) {
          say(`the parameters differ from the run that took checkpoint ${start.found.metadata.id}: ${changed.join(", ")}; resuming with the new ones (--fresh starts over)`);
        }
      }
      let progress: { stop(): void } | undefined;
      let recorder: MetricsRecorder | undefined;
      const started = Date.now();
      let result: JobResult;
      try {
        result = await runJob({
          plan,
          stateBackend: flags.stateBackend,
          ...(flags.stateDir === undefined ? {} : { stateDir: flags.stateDir }),
          batchSize: flags.batchSize,
          ...(workers === 0 ? {} : { workers: { count: workers, job: { file: resolve(file), shownAs: file, params, parallelism: flags.parallelism } } }),
          ...(flags.stateCacheCells === undefined ? {} : { maxCachedCells: flags.stateCacheCells }),
          stopSignal: stop.signal,
          cancelSignal: cancel.signal,
          allowNonRestoredState: flags.allowNonRestoredState === true,
          onCheckpoint: (c) => {
            status.checkpointCompleted(c, checkpointPath(flags.checkpointDir, built.name, c.id));
            if (checkpointControl !== undefined) savepoints.onCompleted(c.id, checkpointPath(flags.checkpointDir, built.name, c.id), checkpointControl.hold);
          },
          onCheckpointing: (control) => {
            checkpointControl = control;
            if (savepoints.waiting > 0) control.requestCheckpoint();
          },
          onCheckpointTriggered: (id, at) => status.checkpointTriggered(id, at),
          onCheckpointAborted: (id, reason, at) => {
            status.checkpointAborted(id, reason, at);
            savepoints.onAborted(id, reason);
          },
          log: say,
          ...(timeline === undefined ? {} : { onPhase: ({ kind, ...detail }) => timeline.mark(kind, detail) }),
          output: {
            duplicateOutput: flags.allowDuplicateOutput === true ? "allow" : "refuse",
            existingOutput: flags.overwriteOutput === true ? "overwrite" : "refuse",
          },
          checkpoints: {
            ...start.checkpoints,
            params,
            config: { intervalMs: flags.checkpointInterval, timeoutMs: flags.checkpointTimeout, retain: flags.retain },
          },
          onStart: (metrics) => {
            // The old lineage is gone by now (a restart must resume the new one); until then,
            // e.g. after a refusal or a failure to start, a restart is still fresh.
            fresh = false;
            status.attemptStarted(metrics, Date.now());
            service.announce();
            timeline?.mark("started");
            timeline?.watchFirstRecord(metrics);
            recorder = recordMetrics(process.env["WEIR_METRICS_FILE"], metrics);
            if (flags.progress) {
              progress = startProgress(metrics, { jobName: built.name, stream: process.stderr, plainEveryMs: flags.progressInterval });
            }
          },
        });
      } catch (e) {
        progress?.stop();
        checkpointControl = undefined;
        if (cancel.signal.aborted) return cancelledNow();
        await restartAfter(e, started);
        continue;
      }
      progress?.stop();
      checkpointControl = undefined;
      finalCheckpoint = result.lastCheckpoint;
      savepoints.failAll(`the job ${result.outcome} first`);
      if (stopSavepoint !== undefined && finalCheckpoint !== undefined) {
        try {
          stopSavepoint.path = await writeSavepoint(checkpointPath(flags.checkpointDir, built.name, finalCheckpoint.id), stopSavepoint.target, Date.now());
          say(`savepoint written to ${stopSavepoint.path}`);
          status.savepointTaken(finalCheckpoint.id, stopSavepoint.path, Date.now());
        } catch (e) {
          status.ended("failed", Date.now());
          throw isWeirError(e) ? new WeirError(`'${built.name}' stopped at checkpoint ${finalCheckpoint.id} (the same command resumes it), but ${e.message}`, { code: e.code, domain: e.domain, retriable: false, cause: e }) : e;
        }
      }
      status.ended(result.outcome, Date.now());
      recorder?.finish();
      const secs = (Date.now() - started) / 1000;
      const m = result.metrics;
      const chk = result.lastCheckpoint;
      const tail = chk === undefined ? "" : `; last checkpoint ${chk.id}`;
      const dropped = formatDropped({ skipped: m.sourceSkipped, deadLettered: m.sourceDeadLettered });
      if (result.outcome === "stopped") {
        say(`'${built.name}' stopped after ${secs.toFixed(1)}s at checkpoint ${chk?.id}${dropped === "" ? "" : ` (${dropped})`}: run the same command again to resume`);
      } else {
        process.stderr.write(`${built.name} finished in ${secs.toFixed(1)}s: ${m.sourceRecords} records read, ${m.sinkRecords} written${dropped === "" ? "" : `, ${dropped}`}${tail}\n`);
      }
      return;
    }
  } catch (e) {
    if (!status.isEnded) status.ended("failed", Date.now());
    throw e;
  } finally {
    savepoints.failAll("the job ended first");
    await savepoints.settled();
    await service.close();
    launcher.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await lock.release();
  }
};
