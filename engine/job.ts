/**
 * A job definition: what a job module exports (default export), built lazily when run.
 *
 * ```ts
 * export default job("word-count", (env) => {
 *   env.source(fromFile("data/lines.txt")).flatMap(...).keyBy(...).reduce(...).sink(toFiles(...));
 * });
 * ```
 */
import type { Source } from "../connectors/source.ts";
import { userError } from "../common/errors.ts";
import { DataStreamImpl, nodeNames, type DataStream, type OperatorOptions } from "./data-stream.ts";
import { GraphBuilder, type GraphNode } from "./graph.ts";
import type { Params } from "./params.ts";
import type { WatermarkStrategy } from "./watermarks.ts";
import { DEFAULT_MAX_PARALLELISM } from "../state/key-groups.ts";
import { checkCarriedTimestamps } from "./watermark-check.ts";

export interface JobEnv {
  /** `--param key=value` values, with typed getters. */
  readonly params: Params;
  /** The job's default parallelism (`--parallelism`). */
  readonly parallelism: number;
  readonly jobName: string;
  /**
   * Adds a source. With `watermarks`, each split's records get event-time timestamps and the
   * split's watermarks are generated (and checkpointed) per split.
   */
  source<T>(source: Source<T, any>, options?: SourceOptions<T>): DataStream<T>;
}

export interface SourceOptions<T> extends OperatorOptions {
  readonly watermarks?: WatermarkStrategy<T>;
}

export interface JobOptions {
  /** Number of key groups: the upper bound for any keyed operator's parallelism (default 128). */
  readonly maxParallelism?: number;
}

export interface JobDefinition {
  readonly kind: "weir.job";
  readonly name: string;
  readonly maxParallelism: number;
  readonly build: (env: JobEnv) => void;
}

const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const job = (name: string, build: (env: JobEnv) => void, options: JobOptions = {}): JobDefinition => {
  if (!JOB_NAME.test(name)) {
    throw userError("BAD_JOB_NAME", `job name '${name}' must be letters, digits, '.', '_' or '-' (it names folders)`);
  }
  const maxParallelism = options.maxParallelism ?? DEFAULT_MAX_PARALLELISM;
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > 32768) {
    throw userError("BAD_MAX_PARALLELISM", `job '${name}': maxParallelism must be an integer in 1..32768`);
  }
  return { kind: "weir.job", name, maxParallelism, build };
};

export const isJobDefinition = (value: unknown): value is JobDefinition =>
  typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "weir.job";

export interface BuiltJob {
  readonly name: string;
  readonly maxParallelism: number;
  readonly defaultParallelism: number;
  readonly nodes: readonly GraphNode[];
}

/** Runs the job's build function and returns its graph. */
export const buildJob = (definition: JobDefinition, settings: { params: Params; parallelism: number }): BuiltJob => {
  const graph = new GraphBuilder(definition.name);
  const env: JobEnv = {
    params: settings.params,
    parallelism: settings.parallelism,
    jobName: definition.name,
    source: <T>(source: Source<T, any>, options?: SourceOptions<T>) => {
      const { name, displayName } = nodeNames(options, `${source.name}-${graph.nodes.length}`);
      const spec = { kind: "source" as const, source, watermarks: options?.watermarks };
      const id = graph.add({ name, ...(displayName === undefined ? {} : { displayName }), parallelism: options?.parallelism, inputs: [], spec });
      return new DataStreamImpl<T>(graph, [id]);
    },
  };
  definition.build(env);
  if (!graph.nodes.some((n) => n.spec.kind === "sink")) {
    throw userError("JOB_WITHOUT_SINK", `job '${definition.name}' defines no sink; end each stream with .sink(...)`);
  }
  checkCarriedTimestamps(graph.nodes);
  for (const node of graph.nodes) {
    const p = node.parallelism ?? settings.parallelism;
    if (node.spec.kind === "operator" && node.spec.keyed && p > definition.maxParallelism) {
      throw userError(
        "PARALLELISM_ABOVE_MAX",
        `operator '${node.name}' has parallelism ${p} above the job's maxParallelism ${definition.maxParallelism}`,
        { operator: node.name },
      );
    }
  }
  return { name: definition.name, maxParallelism: definition.maxParallelism, defaultParallelism: settings.parallelism, nodes: graph.nodes };
};
