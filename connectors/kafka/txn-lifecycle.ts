/**
 * Lifecycle of one Kafka sink transaction, as a transition table with one assert: calling a
 * step in the wrong state is a non-retriable internal error, never a silent no-op.
 *
 *   open --(preCommit: every send flushed)--> prepared --(commit)--> committed
 *   open --(abort)--> aborted
 */
import { internalError } from "../../common/errors.ts";

export type TxnState = "open" | "prepared" | "committed" | "aborted";
export type TxnStep = "preCommit" | "commit" | "abort";

const TRANSITIONS: Readonly<Record<TxnState, Partial<Record<TxnStep, TxnState>>>> = {
  open: { preCommit: "prepared", abort: "aborted" },
  prepared: { commit: "committed" },
  committed: {},
  aborted: {},
};

export const nextTxnState = (state: TxnState, step: TxnStep, transactionalId: string): TxnState => {
  const next = TRANSITIONS[state][step];
  if (next === undefined) {
    throw internalError("KAFKA_TXN_ILLEGAL_STEP", `transaction '${transactionalId}' cannot ${step} in state ${state}`);
  }
  return next;
};
