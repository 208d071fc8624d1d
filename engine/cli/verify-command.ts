/**
 * `weir verify job.ts`: checks exactly-once for the user's own job on this machine. Runs the job
 * once without failures, then under a seeded schedule of SIGKILLs (random moments and protocol
 * failpoints, resuming at parallelisms drawn from a range) until it finishes, and compares every
 * sink's committed output with the failure-free run's. When they differ, it names the first
 * operator whose output diverged and the likely cause (engine/verify/diagnose.ts).
 *
 * Returns the exit code: 0 every sink matched, 1 some did not (or a run failed), 2 usage errors.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomInt } from "node:crypto";
import { toFiles } from "../../connectors/file-sink.ts";
import type { Sink } from "../../connectors/sink.ts";
import { describeError, isWeirError, userError } from "../../common/errors.ts";
import { buildJob, type BuiltJob } from "../job.ts";
import { paramsFrom, parseParamArgs } from "../params.ts";
import { loadJob } from "./load-job.ts";
import { compareOutputs, describeComparison, withoutKeys, type Comparison, type OutputRecord } from "../verify/compare.ts";
import { diagnose, explain } from "../verify/diagnose.ts";
import { redirectedSinkDir, tapDir, verifyNodes, type InstrumentConfig, type VerifyNode } from "../verify/instrument.ts";
import { runFailureFree, runUnderKills, type RunSettings } from "../verify/runs.ts";
import { crashSchedule } from "../verify/schedule.ts";

export interface VerifyFlags {
  readonly param: string[];
  readonly kills: number;
  readonly seed?: number;
  readonly parallelismRange: { readonly min: number; readonly max: number };
  readonly realSinks: boolean;
  readonly checkpointInterval: string;
  readonly stateBackend: string;
}

/** Errors of the command line rather than of the job: exit code 2. */
export const VERIFY_USAGE_ERRORS: ReadonlySet<string> = new Set(["VERIFY_SINK_NOT_EMPTY", "JOB_FILE_NOT_FOUND", "NOT_A_JOB", "BAD_PARAMETER"]);

type Outputs = Map<number, OutputRecord[]>;

const recordsOf = (raw: readonly unknown[], keyed: boolean): OutputRecord[] =>
  raw.map((r) => (keyed ? { value: JSON.stringify((r as { v: unknown }).v), key: (r as { k: string | null }).k } : { value: JSON.stringify(r) }));

const readDir = async (dir: string, keyed: boolean): Promise<OutputRecord[]> => recordsOf((await toFiles(dir).readCommitted!()) ?? [], keyed);

/** Taps of sources and operators, and the redirected sinks when `sinks`. */
const readOutputs = async (dir: string, nodes: readonly VerifyNode[], sinks: boolean): Promise<Outputs> => {
  const out: Outputs = new Map();
  for (const n of nodes) {
    if (n.kind !== "sink") out.set(n.id, await readDir(tapDir(dir, n.id), n.keyed));
    else if (sinks) out.set(n.id, await readDir(redirectedSinkDir(dir, n.id), n.keyedInput));
  }
  return out;
};

const compareAll = (nodes: readonly VerifyNode[], a: Outputs, b: Outputs): Map<number, Comparison> => {
  const result = new Map<number, Comparison>();
  for (const n of nodes) {
    const x = a.get(n.id);
    const y = b.get(n.id);
    if (x !== undefined && y !== undefined) result.set(n.id, compareOutputs(x, y));
  }
  return result;
};

const replayCommand = (file: string, flags: VerifyFlags, seed: number) =>
  [
    "weir verify",
    file,
    ...flags.param.map((p) => `--param ${p}`),
    `--kills ${flags.kills}`,
    `--seed ${seed}`,
    `--parallelism-range ${flags.parallelismRange.min}..${flags.parallelismRange.max}`,
    ...(flags.realSinks ? ["--real-sinks"] : []),
    ...(flags.checkpointInterval === "100ms" ? [] : [`--checkpoint-interval ${flags.checkpointInterval}`]),
    ...(flags.stateBackend === "rocksdb" ? [] : [`--state-backend ${flags.stateBackend}`]),
  ].join(" ");

export const verifyCommand = async (file: string, flags: VerifyFlags, print: (line: string) => void, log: (line: string) => void): Promise<number> => {
  const params = parseParamArgs(flags.param);
  const definition = await loadJob(file);
  let built: BuiltJob;
  try {
    built = buildJob(definition, { params: paramsFrom(params), parallelism: flags.parallelismRange.min });
  } catch (e) {
    if (isWeirError(e)) throw e.withContext({ jobFile: file });
    throw userError("JOB_BUILD_FAILED", `job '${definition.name}' failed while building its graph: ${describeError(e)}`, { jobFile: file, cause: e });
  }
  const nodes = verifyNodes(built);
  const realSinks = new Map<number, Sink<unknown>>();
  for (const n of built.nodes) if (n.spec.kind === "sink") realSinks.set(n.id, n.spec.sink as Sink<unknown>);
  if (flags.realSinks) {
    for (const [id, sink] of realSinks) {
      const before = await sink.readCommitted?.();
      if (before !== undefined && before.length > 0) {
        throw userError(
          "VERIFY_SINK_NOT_EMPTY",
          `sink '${nodes[id]!.name}' already holds ${before.length} committed records: --real-sinks needs the job's sinks to start empty; point them at a new place (e.g. --param out=...)`,
          { operator: nodes[id]!.name },
        );
      }
    }
  }
  const seed = flags.seed ?? randomInt(2 ** 31);
  const steps = crashSchedule({ seed, kills: flags.kills, parallelism: flags.parallelismRange });
  const scratch = await mkdtemp(join(tmpdir(), "weir-verify-"));
  try {
    const settings: RunSettings = { jobFile: file, params: flags.param, checkpointInterval: flags.checkpointInterval, stateBackend: flags.stateBackend, log };
    // Every run instruments by these nodes, whatever its parallelism (instrument.ts).
    const config = (name: string, redirectSinks: boolean): InstrumentConfig => ({ dir: join(scratch, name), redirectSinks, nodes });
    log(`verifying job '${built.name}' with seed ${seed}: ${flags.kills} kills, parallelism ${flags.parallelismRange.min}..${flags.parallelismRange.max}${flags.realSinks ? ", the job's own sinks" : ""}`);

    const straight = config("straight", true);
    const durationMs = await runFailureFree(settings, straight.dir, flags.parallelismRange.min, straight);
    log(`failure-free run (parallelism ${flags.parallelismRange.min}): ${durationMs} ms from its first record to its end`);
    const killed = config("killed", !flags.realSinks);
    const kills = await runUnderKills(settings, killed.dir, steps, killed, durationMs);
    if (kills === 0) log(`warning: no kill landed (the job finished first), so this checked little: give it more records or a lower rate (--param) so that it runs for a few seconds`);

    const expected = await readOutputs(straight.dir, nodes, true);
    const actual = await readOutputs(killed.dir, nodes, !flags.realSinks);
    const skipped = new Set<number>();
    if (flags.realSinks) {
      for (const [id, sink] of realSinks) {
        const committed = await sink.readCommitted?.();
        if (committed === undefined) skipped.add(id);
        else actual.set(id, recordsOf(committed, false));
        expected.set(id, withoutKeys(expected.get(id)!));
      }
    }
    const underKills = compareAll(nodes, expected, actual);
    let failures = 0;
    print(`job '${built.name}', seed ${seed}: ${kills} kills delivered`);
    for (const n of nodes) {
      if (n.kind !== "sink") continue;
      if (skipped.has(n.id)) {
        print(`sink '${n.name}': SKIPPED: Weir cannot read back what its sink '${n.sinkName}' committed (it has no readCommitted, or a custom encoder); only its input is compared (the taps of the operators feeding it)`);
        continue;
      }
      const c = underKills.get(n.id)!;
      if (c.kind === "differs") failures++;
      print(`sink '${n.name}': ${c.kind === "same" ? "OK" : "DIFFERS"}: ${describeComparison(c)}${n.keyedInput && !flags.realSinks ? " (per-key order checked)" : ""}`);
    }
    const operatorsDiffer = nodes.some((n) => n.kind !== "sink" && underKills.get(n.id)?.kind === "differs");
    if (failures === 0 && !(skipped.size > 0 && operatorsDiffer)) {
      print(`verdict: OK: every sink committed exactly the failure-free output (replay: ${replayCommand(file, flags, seed)})`);
      await rm(scratch, { recursive: true, force: true });
      return 0;
    }
    // Something differs: is the job reproducible at all? Run it once more without failures.
    const again = config("straight-2", true);
    await runFailureFree(settings, again.dir, flags.parallelismRange.min, again);
    const reproducible = compareAll(nodes, expected, await readOutputs(again.dir, nodes, true));
    const divergence = diagnose({ nodes, underKills, reproducible, realSinks: flags.realSinks });
    if (divergence === undefined) {
      print(`first divergence: none found among the operators' outputs`);
    } else {
      const n = divergence.node;
      print(`first divergence: ${n.kind === "operator" ? "operator" : n.kind} '${n.name}'`);
      print(`cause: ${divergence.cause}: ${explain(divergence)}`);
    }
    const what = failures > 0 ? `${failures} of ${realSinks.size} sinks differ from the failure-free run` : "an operator's output differs upstream of a sink Weir cannot read back";
    print(`verdict: FAILED: ${what}; replay: ${replayCommand(file, flags, seed)}`);
    print(`scratch directory kept: ${scratch}`);
    return 1;
  } catch (e) {
    // A run failed: what it left is kept for a look.
    print(`scratch directory kept: ${scratch}`);
    throw e;
  }
};
