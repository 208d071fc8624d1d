/** Test helpers: run a job definition in-process and collect what its sinks committed. */
import { buildJob, type JobDefinition } from "../../engine/job.ts";
import { paramsFrom } from "../../engine/params.ts";
import { planJob } from "../../engine/plan.ts";
import { runJob, type RunOptions } from "../../engine/runtime.ts";
import type { Sink } from "../../connectors/sink.ts";

/** An in-memory sink: `committed` holds records per subtask once their transaction commits. */
export interface CollectSink<T> extends Sink<T, T[]> {
  readonly committed: T[][];
  readonly written: T[][];
  all(): T[];
}

export const collectSink = <T>(name = "collect"): CollectSink<T> => {
  const committed: T[][] = [];
  const written: T[][] = [];
  return {
    name,
    committed,
    written,
    all: () => committed.flat(),
    createWriter(context) {
      const mine: T[] = [];
      let open: T[] = [];
      written[context.subtask] = mine;
      committed[context.subtask] ??= [];
      return {
        write(records) {
          for (const r of records) {
            mine.push(r);
            open.push(r);
          }
        },
        preCommit: async () => {
          const txn = open;
          open = [];
          return [txn];
        },
        commit: async (txns) => {
          for (const t of txns) committed[context.subtask]!.push(...t);
        },
        close: async () => undefined,
      };
    },
  };
};

export const runDefinition = async (
  definition: JobDefinition,
  settings: { parallelism?: number; params?: Record<string, string> } & Omit<RunOptions, "plan"> = {},
) => {
  const built = buildJob(definition, { params: paramsFrom(settings.params ?? {}), parallelism: settings.parallelism ?? 1 });
  const plan = planJob(built);
  const { parallelism: _p, params: _q, ...rest } = settings;
  return runJob({ stateBackend: "heap", ...rest, plan });
};

/** Sorted JSON lines: a multiset fingerprint for comparing outputs. */
export const multiset = (records: readonly unknown[]): string[] => records.map((r) => JSON.stringify(r)).sort();
