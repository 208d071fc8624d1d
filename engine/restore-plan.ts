/**
 * What a run restores from a checkpoint, indexed for the runtime: source positions per source
 * operator, keyed-state snapshots per operator, and sink committables per sink operator.
 * Operators are matched by name; state of an operator the job no longer has is reported.
 */
import { dirname, join } from "node:path";
import type { CheckpointMetadata } from "../checkpoint/metadata.ts";
import type { RestoreSource } from "../state/snapshot.ts";
import type { KeyGroupRange } from "../state/key-groups.ts";
import { userError } from "../common/errors.ts";
import type { StateLayoutEntry } from "../state/state-signature.ts";

export interface RestorePlan {
  readonly id: number;
  readonly positions: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  /** Split watermarks per source operator. */
  readonly watermarks: ReadonlyMap<string, Readonly<Record<string, number>>>;
  readonly keyed: ReadonlyMap<string, readonly RestoreSource[]>;
  readonly committables: ReadonlyMap<string, readonly unknown[]>;
  readonly writerStates: ReadonlyMap<string, readonly unknown[]>;
  /** The states each keyed operator had (operators of format-1 checkpoints are absent). */
  readonly layouts: ReadonlyMap<string, readonly StateLayoutEntry[]>;
}

/** `dir` is the checkpoint's own directory (`.../<job>/chk-<n>`); handle paths are relative to its parent. */
export const restorePlanFrom = (metadata: CheckpointMetadata, dir: string): RestorePlan => {
  const base = dirname(dir);
  const positions = new Map<string, Record<string, unknown>>();
  const watermarks = new Map<string, Record<string, number>>();
  const keyed = new Map<string, RestoreSource[]>();
  const committables = new Map<string, unknown[]>();
  const writerStates = new Map<string, unknown[]>();
  const layouts = new Map<string, readonly StateLayoutEntry[]>();
  for (const task of metadata.tasks) {
    for (const s of task.sources) {
      const known = positions.get(s.operator) ?? {};
      for (const [split, position] of Object.entries(s.positions)) {
        if (split in known) {
          throw userError("CHECKPOINT_CORRUPT", `checkpoint ${metadata.id} records split '${split}' of '${s.operator}' twice`);
        }
        known[split] = position;
      }
      positions.set(s.operator, known);
      if (s.watermarks !== undefined) watermarks.set(s.operator, { ...watermarks.get(s.operator), ...s.watermarks });
    }
    for (const k of task.keyed) {
      const list = keyed.get(k.operator) ?? [];
      list.push({ handle: k.handle, absPath: join(base, k.handle.path) });
      keyed.set(k.operator, list);
      if (k.states !== undefined && !layouts.has(k.operator)) layouts.set(k.operator, k.states);
    }
    for (const s of task.sinks) {
      const list = committables.get(s.operator) ?? [];
      list.push(...s.committables);
      committables.set(s.operator, list);
      if (s.writerState !== undefined) writerStates.set(s.operator, [...(writerStates.get(s.operator) ?? []), s.writerState]);
    }
  }
  return { id: metadata.id, positions, watermarks, keyed, committables, writerStates, layouts };
};

/** The snapshots overlapping `range`. */
export const keyedSourcesFor = (plan: RestorePlan, operator: string, range: KeyGroupRange): RestoreSource[] =>
  (plan.keyed.get(operator) ?? []).filter((s) => s.handle.keyGroups.start <= range.end && s.handle.keyGroups.end >= range.start);

/** Refuses a checkpoint whose state belongs to operators the job does not have (renamed or removed). */
export const checkOperatorsMatch = (plan: RestorePlan, operatorNames: ReadonlySet<string>, maxParallelism: number, metadataMax: number): void => {
  const unknown = [...plan.keyed.keys(), ...plan.positions.keys(), ...plan.committables.keys()].filter((n) => !operatorNames.has(n));
  if (unknown.length > 0) {
    throw userError(
      "CHECKPOINT_OPERATORS_MISMATCH",
      `checkpoint ${plan.id} holds state for operators this job does not have: ${[...new Set(unknown)].join(", ")}; operator names must stay the same to resume (or run with --fresh)`,
    );
  }
  if (maxParallelism !== metadataMax) {
    throw userError(
      "CHECKPOINT_MAX_PARALLELISM_MISMATCH",
      `checkpoint ${plan.id} was taken with maxParallelism ${metadataMax}, the job now has ${maxParallelism}; key groups cannot be remapped`,
    );
  }
};
