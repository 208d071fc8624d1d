/**
 * Side sinks: sinks a source writes to itself (a Kafka source's dead-letter topic), committed with
 * the job's checkpoints exactly like the job's own sinks. The engine creates one writer per source
 * subtask and hands it to the readers (`SourceContext.sideOutput`), pre-commits it in the
 * subtask's snapshot, commits it when the checkpoint completes, and recovers it (commit what the
 * restored checkpoint recorded, abort what came after) before the run starts. In checkpoints,
 * runs and recovery it is an operator named `<source operator>.<sink name>`.
 */
import type { Sink } from "../connectors/sink.ts";
import type { GraphNode } from "./graph.ts";

export interface SideSink {
  /** `<source operator>.<sink name>`. */
  readonly operator: string;
  /** The source operator that writes to it. */
  readonly source: string;
  readonly sink: Sink<unknown>;
}

export const sideSinkOf = (node: GraphNode): SideSink | undefined => {
  if (node.spec.kind !== "source" || node.spec.source.sideSink === undefined) return undefined;
  const sink = node.spec.source.sideSink as Sink<unknown>;
  return { operator: `${node.name}.${sink.name}`, source: node.name, sink };
};

export const sideSinksOf = (nodes: readonly GraphNode[]): SideSink[] => nodes.flatMap((n) => sideSinkOf(n) ?? []);
