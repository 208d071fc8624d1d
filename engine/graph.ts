/**
 * The logical job graph that the fluent API builds: nodes (sources, operators, sinks) and the
 * edges between them with their partitioning. The planner turns it into chains and channels.
 */
import type { Source } from "../connectors/source.ts";
import type { Sink } from "../connectors/sink.ts";
import type { OperatorFactory } from "../operators/operator.ts";
import type { KeyValue } from "../state/key-groups.ts";
import type { WatermarkStrategy } from "./watermarks.ts";
import { userError } from "../common/errors.ts";
import type { SideOutputs } from "../operators/side-output.ts";

/**
 * How an edge spreads records over the consumer's subtasks (as Flink's partitioners):
 * - forward: subtask i to subtask i (round-robin across a parallelism change, as rebalance);
 * - rebalance: round-robin (by batch) over every consumer subtask;
 * - rescale: round-robin (by batch) over the producer's contiguous share of consumer subtasks
 *   (edge-wiring.ts): fewer channels than rebalance, same as forward at equal parallelism;
 * - broadcast: every record to every consumer subtask;
 * - hash: by the key's key group (keyBy);
 * - custom: to the subtask `partitioner(key(record), n)` returns (partitionCustom).
 * Control elements (watermarks, barriers, end) go to every channel of every kind.
 */
export type Partitioning =
  | { readonly kind: "forward" }
  | { readonly kind: "rebalance" }
  | { readonly kind: "rescale" }
  | { readonly kind: "broadcast" }
  | { readonly kind: "hash"; readonly key: (record: any) => KeyValue }
  | { readonly kind: "custom"; readonly key: (record: any) => unknown; readonly partitioner: (key: any, numPartitions: number) => number };

export interface GraphEdge {
  readonly from: number;
  readonly partitioning: Partitioning;
  /** Which input of a two-input operator this edge feeds (default 0). */
  readonly side?: 0 | 1;
}

export type NodeSpec =
  | { readonly kind: "source"; readonly source: Source<any, any>; readonly watermarks: WatermarkStrategy<any> | undefined }
  | {
      readonly kind: "operator";
      readonly create: OperatorFactory<any, any>;
      readonly keyed: boolean;
      /** Fires on event time (an event-time window, an interval join): needs watermarks from every source upstream. */
      readonly eventTime?: boolean;
      /**
       * Reads the timestamps records carry (an event-time window or join without an explicit
       * timestamp function): some source upstream must have a watermark strategy (job.ts checks).
       */
      readonly carriedTimestamps?: boolean;
      /** The side outputs the job selects from this node (process functions): see operators/side-output.ts. */
      readonly sideOutputs?: SideOutputs;
      /** Reads a side output of its input (it must see the side records the others do not). */
      readonly selectsSideOutput?: true;
      /**
       * Wakes its task when output is ready outside of any call (OperatorContext.wake, async I/O):
       * never chained into a source's task, which is not woken.
       */
      readonly wakes?: boolean;
      /** Names of the broadcast states it holds (a broadcast process operator; state/broadcast-state.ts). */
      readonly broadcastStates?: readonly string[];
    }
  | { readonly kind: "sink"; readonly sink: Sink<any, any> };

export interface GraphNode {
  readonly id: number;
  /** The operator's identity (its uid): state and checkpoints are keyed by it; unique in the job. */
  readonly name: string;
  /** What the dashboard and REST API call it, when set apart from the uid (OperatorOptions.name). */
  readonly displayName?: string;
  /** Undefined: the job's default parallelism. */
  readonly parallelism: number | undefined;
  readonly inputs: readonly GraphEdge[];
  readonly spec: NodeSpec;
}

export interface NodeOptions {
  readonly name: string;
  readonly displayName?: string;
  readonly parallelism: number | undefined;
  readonly inputs: readonly GraphEdge[];
  readonly spec: NodeSpec;
}

/** Collects nodes in creation order; names are unique within a job (state and checkpoints use them). */
export class GraphBuilder {
  readonly jobName: string;
  readonly nodes: GraphNode[] = [];

  constructor(jobName: string) {
    this.jobName = jobName;
  }

  add(options: NodeOptions): number {
    const id = this.nodes.length;
    const name = options.name;
    if (this.nodes.some((n) => n.name === name)) {
      throw userError(
        "DUPLICATE_OPERATOR_NAME",
        `job '${this.jobName}' has two operators with the uid '${name}' (a uid defaults to the name); give each operator a unique name or uid`,
        { operator: name },
      );
    }
    const p = options.parallelism;
    if (p !== undefined && (!Number.isInteger(p) || p < 1)) {
      throw userError("BAD_PARALLELISM", `operator '${name}': parallelism must be a positive integer, got ${p}`, {
        operator: name,
      });
    }
    this.nodes.push({ id, name, ...(options.displayName === undefined ? {} : { displayName: options.displayName }), parallelism: p, inputs: options.inputs, spec: options.spec });
    return id;
  }
}
