/**
 * Refuses to restore a checkpoint into a job whose state declarations changed incompatibly,
 * before anything runs (no sink recovers, no record is read). Compared per keyed operator and
 * state name, with the signatures the checkpoint recorded (state/state-signature.ts):
 * - a state declared with another kind or value shape: refused (STATE_INCOMPATIBLE);
 * - a state whose TTL was switched on or off: refused (STATE_INCOMPATIBLE), as in Flink (its
 *   stored form differs); another TTL duration is fine;
 * - a state the checkpoint does not have: starts empty (as in Flink);
 * - a state the job no longer declares: its stored values are kept, unused (as in Flink).
 * Checkpoints of format 1 recorded no states: nothing is compared.
 */
import { userError } from "../common/errors.ts";
import { openHeapBackend } from "../state/heap-backend.ts";
import { KeyedStateStore } from "../state/keyed-store.ts";
import { BroadcastStore } from "../state/broadcast-state.ts";
import { describeSignature, incompatibility, type StateLayoutEntry } from "../state/state-signature.ts";
import type { BuiltJob } from "./job.ts";
import type { RestorePlan } from "./restore-plan.ts";

/** A state as the job declares it: its layout entry, and whether it has a `migrate` function. */
export interface DeclaredState extends StateLayoutEntry {
  readonly canMigrate?: boolean;
}

/**
 * The states every keyed operator of `job` declares, by operator name: learnt by creating each
 * operator once over a throwaway in-memory store (operators declare their states when created).
 */
export const declaredStates = (job: BuiltJob): Map<string, DeclaredState[]> => {
  const declared = new Map<string, DeclaredState[]>();
  for (const node of job.nodes) {
    if (node.spec.kind !== "operator" || !node.spec.keyed) continue;
    const store = new KeyedStateStore({ backend: openHeapBackend(), operator: node.name });
    node.spec.create({
      jobName: job.name,
      operatorName: node.name,
      subtask: 0,
      parallelism: 1,
      maxParallelism: job.maxParallelism,
      keyedStore: store,
      ...(node.spec.broadcastStates === undefined ? {} : { broadcastStore: new BroadcastStore({ operator: node.name, declared: node.spec.broadcastStates }) }),
      now: () => 0,
    });
    const migratable = store.migratable;
    declared.set(
      node.name,
      store.layout().map((e) => (migratable.has(e.name) ? { ...e, canMigrate: true } : e)),
    );
  }
  return declared;
};

/** Throws STATE_INCOMPATIBLE naming every operator and state whose declaration cannot read what `plan` stored. */
export const checkStateCompatibility = (plan: RestorePlan, declared: ReadonlyMap<string, readonly DeclaredState[]>): void => {
  const problems: string[] = [];
  for (const [operator, recorded] of plan.layouts) {
    const now = new Map((declared.get(operator) ?? []).map((e) => [e.name, e]));
    for (const before of recorded) {
      const after = now.get(before.name);
      if (after === undefined) continue;
      const why = incompatibility(before, after, after.canMigrate === true);
      if (why !== undefined) {
        problems.push(`state '${before.name}' of operator '${operator}' was ${describeSignature(before)}, is now ${describeSignature(after)} (${why})`);
      }
    }
  }
  if (problems.length === 0) return;
  throw userError(
    "STATE_INCOMPATIBLE",
    `checkpoint ${plan.id} cannot be restored into this job: ${problems.join("; ")}. Keep the old state declaration to resume, or run with --fresh to start without the old state`,
  );
};
