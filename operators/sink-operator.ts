/**
 * Wraps a SinkWriter as the last operator of a chain. Transactions: at the end of input the
 * engine pre-commits and commits through `finish`.
 */
import type { SinkWriter } from "../connectors/sink.ts";
import { WeirError, isWeirError, externalError, describeError } from "../common/errors.ts";
import type { Operator } from "./operator.ts";

export interface SinkOperator<T> extends Operator<T, never> {
  readonly writer: SinkWriter<T>;
  /** Pre-commits and commits everything written (the final checkpoint of a bounded run). */
  finish(checkpointId: number): Promise<void>;
}

const sinkError = (name: string, action: string, e: unknown): WeirError =>
  isWeirError(e)
    ? e.withContext({ operator: name })
    : externalError("SINK_FAILED", `sink '${name}' failed to ${action}: ${describeError(e)}`, { operator: name, cause: e });

export const sinkOperator = <T>(name: string, writer: SinkWriter<T>): SinkOperator<T> => ({
  writer,
  processBatch(records) {
    try {
      const r = writer.write(records);
      if (r !== undefined) return r.catch((e: unknown) => Promise.reject(sinkError(name, "write", e)));
    } catch (e) {
      throw sinkError(name, "write", e);
    }
  },
  async finish(checkpointId) {
    let committables;
    try {
      committables = await writer.preCommit(checkpointId);
    } catch (e) {
      throw sinkError(name, "pre-commit", e);
    }
    try {
      await writer.commit(committables);
    } catch (e) {
      throw sinkError(name, "commit", e);
    }
  },
  close: () => writer.close(),
});
