/**
 * What a run restores from a checkpoint, indexed for the runtime: source positions per source
 * operator, keyed-state snapshots per operator, broadcast states per operator, and sink
 * committables per sink operator.
 * Operators are matched by name; state of an operator the job no longer has is reported.
 */
import { join } from "node:path";
import { snapshotBase, type CheckpointMetadata } from "../checkpoint/metadata.ts";
import type { RestoreSource } from "../state/snapshot.ts";
import type { KeyGroupRange } from "../state/key-groups.ts";
import { userError } from "../common/errors.ts";
import type { StateLayoutEntry } from "../state/state-signature.ts";
import type { BroadcastStatesSnapshot } from "../state/broadcast-state.ts";

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
  /** The key types each keyed operator's state had, over all its snapshots (absent: not recorded). */
  readonly keyTypes: ReadonlyMap<string, readonly string[]>;
  /** Broadcast states per broadcast process operator: one copy, which every new subtask restores. */
  readonly broadcast?: ReadonlyMap<string, BroadcastStatesSnapshot>;
}

/**
 * `dir` is the checkpoint's own directory (`.../<job>/chk-<n>`, whose handle paths are relative to
 * its parent) or a savepoint's (paths relative to itself: `snapshotBase`).
 */
export const restorePlanFrom = (metadata: CheckpointMetadata, dir: string): RestorePlan => {
  const base = snapshotBase(metadata, dir);
  const positions = new Map<string, Record<string, unknown>>();
  const watermarks = new Map<string, Record<string, number>>();
  const keyed = new Map<string, RestoreSource[]>();
  const committables = new Map<string, unknown[]>();
  const writerStates = new Map<string, unknown[]>();
  const layouts = new Map<string, readonly StateLayoutEntry[]>();
  const keyTypes = new Map<string, string[]>();
  const broadcast = new Map<string, BroadcastStatesSnapshot>();
  for (const task of metadata.tasks) {
    // All subtasks' copies are equal; a checkpoint holds one (subtask 0's).
    for (const b of task.broadcast ?? []) if (!broadcast.has(b.operator)) broadcast.set(b.operator, b.states);
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
      if (k.keyTypes !== undefined) keyTypes.set(k.operator, [...new Set([...(keyTypes.get(k.operator) ?? []), ...k.keyTypes])].sort());
    }
    for (const s of task.sinks) {
      const list = committables.get(s.operator) ?? [];
      list.push(...s.committables);
      committables.set(s.operator, list);
      if (s.writerState !== undefined) writerStates.set(s.operator, [...(writerStates.get(s.operator) ?? []), s.writerState]);
    }
  }
  return { id: metadata.id, positions, watermarks, keyed, committables, writerStates, layouts, keyTypes, broadcast };
};

/** The snapshots overlapping `range`. */
export const keyedSourcesFor = (plan: RestorePlan, operator: string, range: KeyGroupRange): RestoreSource[] =>
  (plan.keyed.get(operator) ?? []).filter((s) => s.handle.keyGroups.start <= range.end && s.handle.keyGroups.end >= range.start);

/** Operators the checkpoint holds state of that are not in `operatorNames` (renamed or removed), each once. */
export const unknownOperators = (plan: RestorePlan, operatorNames: ReadonlySet<string>): string[] => [
  ...new Set([...plan.keyed.keys(), ...plan.positions.keys(), ...plan.committables.keys(), ...(plan.broadcast?.keys() ?? [])].filter((n) => !operatorNames.has(n))),
];

/**
 * `plan` without the state of `operators` (`--allow-non-restored-state`, as Flink's). A sink among
 * them with output pre-committed in the checkpoint is refused (CHECKPOINT_PENDING_OUTPUT_DROPPED):
 * dropping it would lose output of a completed checkpoint.
 */
export const withoutOperators = (plan: RestorePlan, operators: readonly string[]): RestorePlan => {
  const pending = operators.filter((op) => (plan.committables.get(op) ?? []).length > 0);
  if (pending.length > 0) {
    throw userError(
      "CHECKPOINT_PENDING_OUTPUT_DROPPED",
      `checkpoint ${plan.id} holds output of sink${pending.length > 1 ? "s" : ""} ${pending.map((p) => `'${p}'`).join(", ")} that is pre-committed but not yet known to be committed, and this job no longer has ${pending.length > 1 ? "them" : "it"}: dropping that state would lose the output. Resume once with the sink still in the job (its output is then committed), then change the job`,
    );
  }
  const keep = <V>(m: ReadonlyMap<string, V>) => new Map([...m].filter(([op]) => !operators.includes(op)));
  return {
    ...plan,
    positions: keep(plan.positions),
    watermarks: keep(plan.watermarks),
    keyed: keep(plan.keyed),
    committables: keep(plan.committables),
    writerStates: keep(plan.writerStates),
    layouts: keep(plan.layouts),
    keyTypes: keep(plan.keyTypes),
    broadcast: keep(plan.broadcast ?? new Map()),
  };
};

/** Refuses a checkpoint whose state belongs to operators the job does not have (renamed or removed). */
export const checkOperatorsMatch = (plan: RestorePlan, operatorNames: ReadonlySet<string>, maxParallelism: number, metadataMax: number): void => {
  const unknown = unknownOperators(plan, operatorNames);
  if (unknown.length > 0) {
    throw userError(
      "CHECKPOINT_OPERATORS_MISMATCH",
      `checkpoint ${plan.id} holds state for operators this job does not have: ${unknown.join(", ")}; operator names must stay the same to resume, or run with --allow-non-restored-state to drop their state (or with --fresh to start over)`,
    );
  }
  if (maxParallelism !== metadataMax) {
    throw userError(
      "CHECKPOINT_MAX_PARALLELISM_MISMATCH",
      `checkpoint ${plan.id} was taken with maxParallelism ${metadataMax}, the job now has ${maxParallelism}; key groups cannot be remapped`,
    );
  }
};
