/**
 * The crash schedule of `weir verify`, drawn from a seed (so `--seed S` replays it): for each of
 * the `kills` runs that get killed, when (a SIGKILL at a fraction of the failure-free run's
 * duration, or at the n-th time a protocol failpoint is reached), and the parallelism of every run
 * (the killed ones and the final one that runs to the end). Pure.
 */
import { FAILPOINTS, type FailpointName } from "../../common/failpoints.ts";
import { SeededRandom } from "../../connectors/random.ts";

export type Kill =
  | { readonly kind: "timed"; /** Fraction of the failure-free run's processing time (after its first record), in [0.15, 0.95). */ readonly at: number }
  | {
      readonly kind: "failpoint";
      readonly name: FailpointName;
      /** Die the hit-th time it is reached (1..3). */
      readonly hit: number;
      /** A failpoint the run does not reach (e.g. 'alignment' with one input): a timed kill here instead. */
      readonly at: number;
    };

export interface RunStep {
  readonly parallelism: number;
  /** Undefined: the run goes to the end. */
  readonly kill: Kill | undefined;
}

export interface ScheduleOptions {
  readonly seed: number;
  readonly kills: number;
  readonly parallelism: { readonly min: number; readonly max: number };
}

/** `kills` killed runs, then one that runs to the end. "restore" is not drawn for the first run (it restores nothing). */
export const crashSchedule = (options: ScheduleOptions): RunStep[] => {
  const random = new SeededRandom().reseed(options.seed, 0, 0);
  const { min, max } = options.parallelism;
  const parallelism = () => min + random.int(max - min + 1);
  const steps: RunStep[] = [];
  for (let i = 0; i < options.kills; i++) {
    const p = parallelism();
    const failpoints = FAILPOINTS.filter((f) => i > 0 || f !== "restore");
    const kill: Kill =
      random.next() < 0.5
        ? { kind: "timed", at: 0.15 + 0.8 * random.next() }
        : { kind: "failpoint", name: failpoints[random.int(failpoints.length)]!, hit: 1 + random.int(3), at: 0.15 + 0.8 * random.next() };
    steps.push({ parallelism: p, kill });
  }
  steps.push({ parallelism: parallelism(), kill: undefined });
  return steps;
};

export const describeKill = (kill: Kill, durationMs: number): string =>
  kill.kind === "timed"
    ? `SIGKILL ${Math.round(kill.at * durationMs)} ms into processing`
    : `SIGKILL at failpoint '${kill.name}' (hit ${kill.hit}) or ${Math.round(kill.at * durationMs)} ms into processing`;

/** Parses "1..4" (or "2"): a parallelism range. */
export const parseParallelismRange = (raw: string): { min: number; max: number } | undefined => {
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(raw.trim());
  if (m === null) return undefined;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  return min >= 1 && max >= min && max <= 128 ? { min, max } : undefined;
};
