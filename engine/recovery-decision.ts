/**
 * What a restore does when sinks report that the destination discarded some of the restored
 * checkpoint's committables (`RecoveryReport`, connectors/sink.ts), e.g. Kafka transactions the
 * broker aborted because the job stayed down longer than their transaction timeout.
 *
 * - Nothing aborted: resume checkpoint n.
 * - Every reported committable of n aborted, none committed, none unknown: nothing of n is
 *   visible in those sinks, so restoring n-1 (or starting from the beginning when n is 1) writes
 *   those records again exactly once: "fallback" (provably safe; sinks that report nothing can
 *   retract, or are refused by output-rewind.ts as usual).
 * - Otherwise (some committed, some aborted; or some unknown; or n-1 is not available): resuming n
 *   would leave the aborted records out of the output, and restoring n-1 would write the committed
 *   ones twice. Stop with a non-retriable error saying exactly which, and the command that continues.
 */
import type { CommittableFate, RecoveryReport } from "../connectors/sink.ts";
import { externalError } from "../common/errors.ts";

export interface SinkReport {
  readonly operator: string;
  readonly report: RecoveryReport;
}

export type RecoveryDecision =
  | { readonly kind: "resume" }
  | { readonly kind: "fallback"; readonly to: number; readonly operators: readonly string[]; readonly line: string };

export interface DecideOptions {
  readonly job: string;
  readonly restoredId: number;
  readonly reports: readonly SinkReport[];
  /** Checkpoint n-1 if it can be restored (0 = the beginning), else undefined. */
  readonly previous: { readonly id: number; readonly path: string | undefined } | undefined;
}

const sum = (fates: readonly CommittableFate[]): string => {
  const counts = fates.map((f) => f.records);
  return counts.every((c) => c !== undefined) ? `${counts.reduce((a, b) => a + b!, 0)} records` : "records";
};

const list = (operator: string, fates: readonly CommittableFate[]) => `sink '${operator}': ${fates.map((f) => f.description).join(", ")}`;

export const decideRecovery = (o: DecideOptions): RecoveryDecision => {
  const n = o.restoredId;
  const aborted = o.reports.filter((r) => r.report.aborted.length > 0);
  const unknown = o.reports.filter((r) => r.report.unknown.length > 0);
  if (aborted.length === 0 && unknown.length === 0) return { kind: "resume" };
  const committed = o.reports.filter((r) => r.report.committed.length > 0);
  const abortedFates = aborted.flatMap((r) => r.report.aborted);
  const reason = aborted[0]?.report.abortReason ?? unknown[0]!.report.abortReason;
  const lost = `${abortedFates.length} transaction${abortedFates.length === 1 ? "" : "s"} with ${sum(abortedFates)} (${aborted.map((r) => list(r.operator, r.report.aborted)).join("; ")})`;
  const back = o.previous === undefined ? undefined : o.previous.id === 0 ? "starts from the beginning" : `restores checkpoint ${o.previous.id}`;

  if (committed.length === 0 && unknown.length === 0 && o.previous !== undefined) {
    return {
      kind: "fallback",
      to: o.previous.id,
      // Every reporting sink holds nothing of n here: those whose transactions were aborted, and
      // those that had none in n (e.g. a dead-letter sink without bad records).
      operators: o.reports.map((r) => r.operator),
      line: `checkpoint ${n} of '${o.job}': the broker aborted all its ${lost} before they were committed (${reason}), so none of its output is visible; this run ${back} instead and writes those records again (checkpoint ${n} is deleted)`,
    };
  }

  const facts: string[] = [];
  if (aborted.length > 0) facts.push(`the broker aborted ${lost} before they were committed (${reason})`);
  if (committed.length > 0) facts.push(`${committed.map((r) => list(r.operator, r.report.committed)).join("; ")} had committed (${sum(committed.flatMap((r) => r.report.committed))})`);
  if (unknown.length > 0) {
    facts.push(`whether ${unknown.map((r) => list(r.operator, r.report.unknown)).join("; ")} committed cannot be told (the broker no longer knows their transactional ids)`);
  }
  const twice = committed.length > 0 ? " (the committed records then appear twice)" : "";
  const redo =
    o.previous === undefined
      ? `checkpoint ${n - 1} is not available: to write them again, run the same command with --from an older checkpoint (weir checkpoints list --job ${o.job}) and --allow-duplicate-output, or with --fresh (what was committed after that checkpoint then appears twice)`
      : o.previous.path === undefined
        ? `to write them again, run the same command with --fresh${twice}`
        : `to write them again, run the same command with --from ${o.previous.path} --allow-duplicate-output${twice}`;
  throw externalError(
    "KAFKA_TXN_LOST",
    `checkpoint ${n} of '${o.job}' cannot be resumed exactly once: ${facts.join("; ")}. Resuming it would leave the aborted records out of the output; ${redo}`,
    { retriable: false, operator: (aborted[0] ?? unknown[0])!.operator },
  );
};
