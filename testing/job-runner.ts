/**
 * Runs a job to completion in-process for a test: named sources get in-memory records, every
 * sink's committed output comes back as an array.
 *
 * ```ts
 * const result = await testJob(wordCount, { sources: { lines: ["a b", "b"] } });
 * expect(result.sink<WordCount>("counts")).toEqual([...]);
 * ```
 *
 * Sources and sinks are found by their uid or name (OperatorOptions), or their connector's name. A source given records
 * reads them instead of its own input (one split, or `{ splits }`: order holds within each), with
 * the job's watermark strategy; a source not given any keeps its
 * own (it must be bounded, or the job would never end). Sinks are replaced by in-memory sinks
 * that keep what each checkpoint commits (the last one at the end of input), so the output is
 * what a downstream reader of an exactly-once sink would see. State lives in the heap backend
 * unless `stateBackend: "rocksdb"`; the run's files live in a temporary directory removed after.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { userError } from "../common/errors.ts";
import { generator } from "../connectors/generator-source.ts";
import type { Sink } from "../connectors/sink.ts";
import type { Source } from "../connectors/source.ts";
import type { GraphNode } from "../engine/graph.ts";
import { buildJob, type BuiltJob, type JobDefinition } from "../engine/job.ts";
import { paramsFrom } from "../engine/params.ts";
import { planJob } from "../engine/plan.ts";
import { runJob } from "../engine/runtime.ts";

export interface TestJobOptions {
  /**
   * Records per source (by uid or name): an array (one split, in order), or `{ splits: [[...], [...]] }`
   * for several splits (order holds within each; read in parallel at parallelism > 1).
   */
  readonly sources?: Readonly<Record<string, TestSourceRecords>>;
  /** `--param` values. */
  readonly params?: Readonly<Record<string, string | number | boolean>>;
  /** Default parallelism (default 1). */
  readonly parallelism?: number;
  readonly stateBackend?: "heap" | "rocksdb";
  /** Take a checkpoint every this many ms while the job runs (default 1000, as `weir run`). */
  readonly checkpointIntervalMs?: number;
}

export type TestSourceRecords = readonly unknown[] | { readonly splits: readonly (readonly unknown[])[] };

export interface TestJobResult {
  /** Committed output per sink uid, subtasks concatenated in subtask order. */
  readonly sinks: Readonly<Record<string, readonly unknown[]>>;
  /** One sink's committed output (by uid or name); throws naming the job's sinks when there is none. */
  sink<T = unknown>(name: string): T[];
  /** Records the sources emitted, and the sinks received. */
  readonly sourceRecords: number;
  readonly sinkRecords: number;
}

/** An in-memory sink: what each subtask committed, in commit order. */
const memorySink = (name: string, committed: unknown[][]): Sink<unknown, unknown[]> => ({
  name,
  createWriter(context) {
    const mine: unknown[] = (committed[context.subtask] ??= []);
    let open: unknown[] = [];
    return {
      write(records) {
        for (const r of records) open.push(r);
      },
      preCommit: async () => {
        const txn = open;
        open = [];
        return [txn];
      },
      commit: async (txns) => {
        for (const t of txns) mine.push(...t);
      },
      close: async () => undefined,
    };
  },
});

const memorySource = (node: string, name: string, records: TestSourceRecords): Source<unknown, number> => {
  const splits = Array.isArray(records) ? [records as readonly unknown[]] : (records as { splits: readonly (readonly unknown[])[] }).splits;
  if (!Array.isArray(splits) || splits.length === 0 || !splits.every(Array.isArray)) {
    throw userError("TEST_BAD_SOURCE_RECORDS", `testJob: records for source '${node}' must be an array, or { splits: [[...], ...] } with at least one array`);
  }
  return generator<unknown>({
    name,
    splits: splits.length,
    recordsPerSplit: (split) => splits[split]!.length,
    generate: ({ split, index }) => splits[split]![index],
  });
};

/** A node is named by its uid, its display name, or its connector's own name (`generator({ name })`). */
const matches = (node: GraphNode, name: string) =>
  node.name === name ||
  node.displayName === name ||
  (node.spec.kind === "source" && node.spec.source.name === name) ||
  (node.spec.kind === "sink" && node.spec.sink.name === name);

const listOf = (nodes: readonly GraphNode[], kind: "source" | "sink") =>
  nodes
    .filter((n) => n.spec.kind === kind)
    .map((n) => `'${n.name}'`)
    .join(", ") || "none";

export const testJob = async (definition: JobDefinition, options: TestJobOptions = {}): Promise<TestJobResult> => {
  const params = Object.fromEntries(Object.entries(options.params ?? {}).map(([k, v]) => [k, String(v)]));
  const built = buildJob(definition, { params: paramsFrom(params), parallelism: options.parallelism ?? 1 });
  const given = new Map(Object.entries(options.sources ?? {}));
  for (const name of given.keys()) {
    if (!built.nodes.some((n) => n.spec.kind === "source" && matches(n, name))) {
      throw userError("TEST_UNKNOWN_SOURCE", `job '${built.name}' has no source '${name}' (its sources: ${listOf(built.nodes, "source")}); name a source with { name: "..." }`);
    }
  }
  const committed = new Map<string, unknown[][]>();
  const nodes = built.nodes.map((node): GraphNode => {
    const spec = node.spec;
    if (spec.kind === "source") {
      const records = [...given].find(([name]) => matches(node, name))?.[1];
      if (records !== undefined) return { ...node, spec: { ...spec, source: memorySource(node.name, spec.source.name, records) } };
      if (!spec.source.bounded) {
        throw userError(
          "TEST_UNBOUNDED_SOURCE",
          `source '${node.name}' of job '${built.name}' is unbounded, so the job would never end: give it records, testJob(job, { sources: { "${node.name}": [...] } })`,
        );
      }
      return node;
    }
    if (spec.kind === "sink") {
      const perSubtask: unknown[][] = [];
      committed.set(node.name, perSubtask);
      return { ...node, spec: { kind: "sink", sink: memorySink(spec.sink.name, perSubtask) } };
    }
    return node;
  });
  const job: BuiltJob = { ...built, nodes };
  const dir = await mkdtemp(join(tmpdir(), "weir-test-job-"));
  try {
    const result = await runJob({
      plan: planJob(job),
      stateBackend: options.stateBackend ?? "heap",
      stateDir: join(dir, "state"),
      checkpoints: {
        root: join(dir, "checkpoints"),
        ...(options.checkpointIntervalMs === undefined ? {} : { config: { intervalMs: options.checkpointIntervalMs } }),
      },
      log: () => undefined,
    });
    const sinks: Record<string, unknown[]> = {};
    for (const [name, perSubtask] of committed) sinks[name] = perSubtask.flatMap((s) => s ?? []);
    return {
      sinks,
      sink<T>(name: string): T[] {
        const node = built.nodes.find((n) => n.spec.kind === "sink" && matches(n, name));
        if (node === undefined) {
          throw userError("TEST_UNKNOWN_SINK", `job '${built.name}' has no sink '${name}' (its sinks: ${listOf(built.nodes, "sink")}); name a sink with { name: "..." }`);
        }
        return sinks[node.name] as T[];
      },
      sourceRecords: result.metrics.sourceRecords,
      sinkRecords: result.metrics.sinkRecords,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
