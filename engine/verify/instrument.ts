/**
 * The engine-level hook of `weir verify` (not public API): when a `weir run` child process has
 * the environment variable WEIR_VERIFY_INSTRUMENT (JSON `InstrumentConfig`), run-command and the
 * worker threads rebuild the job's graph with `instrumentForVerify` before planning it:
 *
 * - every source and operator gets a tap: an extra exactly-once file sink under
 *   `<dir>/taps/<node id>` fed (forward, at the node's parallelism) with the node's output, so
 *   its output is committed with the job's checkpoints and can be compared per operator;
 * - a key-partitioned operator's output (a keyed operator fed by keyBy: hash-partitioned input)
 *   is wrapped in envelopes naming the key (keyed-envelope.ts) for its tap, then unwrapped (a map
 *   node) for its real consumers. The unwrap node takes over the operator's side outputs, so
 *   plan.ts still drops side records on the edges to its main consumers. An operator with keyed
 *   state whose input is not hash-partitioned (asyncMap: its records in flight) is left as it is;
 * - with `redirectSinks`, each sink node writes to `toFiles(<dir>/sinks/<node id>)` instead of its
 *   own sink; one fed forward straight from a key-partitioned operator of the same declared
 *   parallelism receives envelopes (keyed input).
 *
 * These decisions depend on the graph's edges and declared parallelisms only, never on the run's
 * parallelism, and `weir verify` passes its own (`InstrumentConfig.nodes`) to every run, so every
 * run at every parallelism writes the same taps and sinks in the same form.
 *
 * Node ids of the original graph are kept in the manifest (`VerifyNode.id`); the instrumented graph
 * renumbers nodes so that every node still comes after its inputs. Operator names (uids) of the
 * original nodes are unchanged, so checkpoints of one verify run restore in the next one.
 */
import { join } from "node:path";
import { toFiles } from "../../connectors/file-sink.ts";
import { mapOperator } from "../../operators/map.ts";
import { userError } from "../../common/errors.ts";
import type { GraphEdge, GraphNode, NodeSpec } from "../graph.ts";
import type { BuiltJob } from "../job.ts";
import { keyedEnvelopeOperator, type Envelope } from "./keyed-envelope.ts";

export const VERIFY_ENV = "WEIR_VERIFY_INSTRUMENT";

export interface InstrumentConfig {
  /** Scratch directory of this run: taps and redirected sinks go below it. */
  readonly dir: string;
  /** Replace each sink with a scratch exactly-once file sink (default of `weir verify`). */
  readonly redirectSinks: boolean;
  /** The parent's view of the job (verifyNodes of the graph it built); absent: this job's own (tests). */
  readonly nodes?: readonly VerifyNode[];
}

/** What verify needs to know about one node of the user's graph. */
export interface VerifyNode {
  /** Its id in the job's own graph (topological order). */
  readonly id: number;
  readonly name: string;
  readonly kind: "source" | "operator" | "sink";
  /**
   * A key-partitioned operator: keyed, and fed by keyBy (every input hash-partitioned, or the
   * broadcast input of a keyed broadcast process function). Its output carries keys.
   */
  readonly keyed: boolean;
  /** Async I/O (asyncMap): not key-partitioned, but Weir keeps its records in flight in its state. */
  readonly async: boolean;
  /** Ids of the nodes feeding it. */
  readonly inputs: readonly number[];
  /**
   * A sink node fed forward (point-wise) by exactly one key-partitioned operator of the same
   * declared parallelism (both the job's default, or the same number): its records carry keys.
   */
  readonly keyedInput: boolean;
  /** The sink's own name (sinks only), e.g. "file-sink". */
  readonly sinkName?: string;
}

export const tapDir = (dir: string, id: number): string => join(dir, "taps", String(id));
export const redirectedSinkDir = (dir: string, id: number): string => join(dir, "sinks", String(id));

const keyPartitioned = (n: GraphNode): boolean =>
  n.spec.kind === "operator" &&
  n.spec.keyed &&
  n.inputs.some((e) => e.partitioning.kind === "hash") &&
  n.inputs.every((e) => e.partitioning.kind === "hash" || (e.side === 1 && e.partitioning.kind === "broadcast"));

/** The nodes of the job as verify sees them (independent of the instrumentation and of the parallelism it was built at). */
export const verifyNodes = (job: BuiltJob): VerifyNode[] =>
  job.nodes.map((n) => {
    const only = n.inputs.length === 1 ? n.inputs[0]! : undefined;
    const upstream = only === undefined ? undefined : job.nodes[only.from]!;
    // Forward between equal parallelisms is point-wise: the sink sees each key's records in order.
    // Only declared parallelisms are compared: equal at the run's parallelism is not enough, as a
    // verify run at another parallelism would spread a key's records round-robin.
    const keyedInput =
      n.spec.kind === "sink" && only?.partitioning.kind === "forward" && upstream !== undefined && keyPartitioned(upstream) && n.parallelism === upstream.parallelism;
    return {
      id: n.id,
      name: n.name,
      kind: n.spec.kind,
      keyed: keyPartitioned(n),
      async: n.spec.kind === "operator" && n.spec.keyed && n.spec.wakes === true,
      inputs: n.inputs.map((e) => e.from),
      keyedInput,
      ...(n.spec.kind === "sink" ? { sinkName: n.spec.sink.name } : {}),
    };
  });

/** The parent's nodes, checked against this run's graph: the job must build the same graph at every parallelism. */
const nodesFor = (job: BuiltJob, given: readonly VerifyNode[] | undefined): readonly VerifyNode[] => {
  if (given === undefined) return verifyNodes(job);
  const other = job.nodes.find((n, i) => given[i]?.name !== n.name || given[i]?.kind !== n.spec.kind);
  if (given.length !== job.nodes.length || other !== undefined) {
    throw userError(
      "VERIFY_GRAPH_CHANGED",
      `job '${job.name}' built another graph at parallelism ${job.defaultParallelism} than the one weir verify built (${given.length} nodes, now ${job.nodes.length}${other === undefined ? "" : `; node ${other.id} is '${other.name}'`}): weir verify needs the same operators at every parallelism of the range`,
      other === undefined ? {} : { operator: other.name },
    );
  }
  return given;
};

const forward = { kind: "forward" } as const;

/** The instrumented graph (see the file comment). Pure: the same job and config give the same graph. */
export const instrumentForVerify = (job: BuiltJob, config: InstrumentConfig): BuiltJob => {
  const nodes: GraphNode[] = [];
  /** Original id → new id of the node carrying its plain records / its envelopes (keyed only). */
  const plain = new Map<number, number>();
  const enveloped = new Map<number, number>();
  const add = (node: Omit<GraphNode, "id">): number => {
    const id = nodes.length;
    nodes.push({ ...node, id });
    return id;
  };
  const info = nodesFor(job, config.nodes);
  for (const node of job.nodes) {
    const v = info[node.id]!;
    const remap = (e: GraphEdge, envelopes: boolean): GraphEdge => ({
      ...e,
      from: (envelopes ? enveloped.get(e.from) : undefined) ?? plain.get(e.from)!,
    });
    if (node.spec.kind === "sink") {
      const redirect = config.redirectSinks;
      const spec: NodeSpec = redirect ? { kind: "sink", sink: toFiles(redirectedSinkDir(config.dir, node.id), { name: "verify-sink" }) } : node.spec;
      add({ ...node, inputs: node.inputs.map((e) => remap(e, redirect && v.keyedInput)), spec });
      continue;
    }
    const inputs = node.inputs.map((e) => remap(e, false));
    if (node.spec.kind === "operator" && v.keyed) {
      const { sideOutputs, ...spec } = node.spec;
      const keyedSecondInput = node.inputs.some((e) => e.side === 1 && e.partitioning.kind === "hash");
      const wrapped = add({ ...node, inputs, spec: { ...spec, create: keyedEnvelopeOperator(node.spec.create, { keyedSecondInput }) } });
      enveloped.set(node.id, wrapped);
      const unwrapName = `verify.unwrap.${node.name}`;
      const unwrap = add({
        name: unwrapName,
        parallelism: node.parallelism,
        inputs: [{ from: wrapped, partitioning: forward }],
        // The side records come out of the unwrap node: its main consumers must not get them.
        spec: { kind: "operator", keyed: false, ...(sideOutputs === undefined ? {} : { sideOutputs }), create: () => mapOperator(unwrapName, (e: Envelope) => e.v) },
      });
      plain.set(node.id, unwrap);
    } else {
      plain.set(node.id, add({ ...node, inputs }));
    }
    add({
      name: `verify.tap.${node.name}`,
      parallelism: node.parallelism,
      inputs: [{ from: enveloped.get(node.id) ?? plain.get(node.id)!, partitioning: forward }],
      spec: { kind: "sink", sink: toFiles(tapDir(config.dir, node.id), { name: "verify-tap" }) },
    });
  }
  return { ...job, nodes };
};

/** The config a `weir run` child was given by `weir verify`, if any. */
export const instrumentConfigFromEnv = (env: NodeJS.ProcessEnv = process.env): InstrumentConfig | undefined => {
  const raw = env[VERIFY_ENV];
  if (raw === undefined || raw === "") return undefined;
  const parsed = JSON.parse(raw) as InstrumentConfig;
  return { dir: parsed.dir, redirectSinks: parsed.redirectSinks, ...(parsed.nodes === undefined ? {} : { nodes: parsed.nodes }) };
};

/** Applies the verify instrumentation when this process runs under `weir verify`. */
export const applyVerifyHook = (job: BuiltJob, env: NodeJS.ProcessEnv = process.env): BuiltJob => {
  const config = instrumentConfigFromEnv(env);
  return config === undefined ? job : instrumentForVerify(job, config);
};
