/**
 * The `weir run` child processes of `weir verify`: a failure-free run, and a run under a crash
 * schedule (each killed run resumed by the next `weir run` on the same checkpoint directory, at
 * the step's parallelism, until one runs to the end). Each gets the verify instrumentation through
 * the environment (instrument.ts).
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { epochNow, type TimelineFile } from "../cli/timeline-file.ts";
import { WeirError } from "../../common/errors.ts";
import { VERIFY_ENV, type InstrumentConfig } from "./instrument.ts";
import { describeKill, type RunStep } from "./schedule.ts";

export interface RunSettings {
  readonly jobFile: string;
  /** `--param k=v` arguments, passed on as they are. */
  readonly params: readonly string[];
  readonly checkpointInterval: string;
  readonly stateBackend: string;
  readonly log: (line: string) => void;
}

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/**
 * When the run's first record reached a sink (epoch ms, WEIR_TIMELINE_FILE), polled every 20 ms;
 * undefined if the run ended first. Timed kills count from there, so that they land while the
 * job processes records rather than while Node starts.
 */
const firstRecordAt = async (path: string, ended: () => boolean): Promise<number | undefined> => {
  for (;;) {
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text !== undefined) return (JSON.parse(text) as TimelineFile).marks.find((m) => m.phase === "first-record")?.at;
    if (ended()) return undefined;
    await new Promise((r) => setTimeout(r, 20));
  }
};

const startRun = (settings: RunSettings, dir: string, parallelism: number, instrument: InstrumentConfig, failpoint: string, timeline: string) => {
  const args = [
    ...process.execArgv,
    process.argv[1]!,
    "run",
    settings.jobFile,
    ...settings.params.flatMap((p) => ["--param", p]),
    "--parallelism",
    String(parallelism),
    "--checkpoint-dir",
    join(dir, "checkpoints"),
    "--checkpoint-interval",
    settings.checkpointInterval,
    "--state-backend",
    settings.stateBackend,
    "--no-progress",
    "--no-ui",
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, [VERIFY_ENV]: JSON.stringify(instrument), WEIR_FAILPOINT: failpoint, WEIR_TIMELINE_FILE: timeline },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  let ended = false;
  const exited = new Promise<Exit>((done) =>
    child.on("exit", (code, signal) => {
      ended = true;
      done({ code, signal, stderr });
    }),
  );
  return { exited, firstRecord: firstRecordAt(timeline, () => ended), kill: () => void child.kill("SIGKILL") };
};

const failed = (what: string, exit: Exit) =>
  new WeirError(`${what} failed (exit ${exit.code ?? exit.signal}): ${exit.stderr.trim().split("\n").slice(-3).join(" | ")}`, {
    code: "VERIFY_RUN_FAILED",
    domain: "user",
  });

/** Runs the job to its end without failures; returns how long it processed records (ms, from its first record to its exit). */
export const runFailureFree = async (settings: RunSettings, dir: string, parallelism: number, instrument: InstrumentConfig): Promise<number> => {
  const started = epochNow();
  const run = startRun(settings, dir, parallelism, instrument, "", join(dir, "timeline.json"));
  const exit = await run.exited;
  if (exit.code !== 0) throw failed(`the failure-free run of ${settings.jobFile}`, exit);
  return Math.max(1, Math.round(epochNow() - ((await run.firstRecord) ?? started)));
};

/**
 * Follows the schedule until a run ends by itself; returns the number of kills delivered. A timed
 * kill lands `at` × `durationMs` (the failure-free run's processing time) after the run's first record.
 */
export const runUnderKills = async (
  settings: RunSettings,
  dir: string,
  steps: readonly RunStep[],
  instrument: InstrumentConfig,
  durationMs: number,
): Promise<number> => {
  let kills = 0;
  for (const [i, step] of steps.entries()) {
    const kill = step.kill;
    const failpoint = kill?.kind === "failpoint" ? `${kill.name}@${kill.hit}` : "";
    const run = startRun(settings, dir, step.parallelism, instrument, failpoint, join(dir, `timeline-${i + 1}.json`));
    let timer: NodeJS.Timeout | undefined;
    let exited = false;
    if (kill !== undefined) {
      void run.firstRecord.then((at) => {
        if (at !== undefined && !exited) timer = setTimeout(run.kill, Math.max(0, Math.round(kill.at * durationMs - (epochNow() - at))));
      });
    }
    const exit = await run.exited;
    exited = true;
    if (timer !== undefined) clearTimeout(timer);
    const what = `run ${i + 1} (parallelism ${step.parallelism}, ${kill === undefined ? "to the end" : describeKill(kill, durationMs)})`;
    if (exit.signal === "SIGKILL") {
      kills++;
      const byFailpoint = kill?.kind === "failpoint" && exit.stderr.includes(`failpoint '${kill.name}' reached`);
      settings.log(`${what}: killed${byFailpoint ? " at the failpoint" : ""}`);
      continue;
    }
    if (exit.code !== 0) throw failed(what, exit);
    settings.log(`${what}: finished${kill === undefined ? "" : " before the kill"}`);
    return kills;
  }
  throw new WeirError("the schedule ended without a run to the end (internal)", { code: "VERIFY_SCHEDULE", domain: "internal" });
};
