/**
 * Event time without watermarks. Event-time operators (event-time windows, interval joins, keyed
 * process functions with event-time timers) make progress only as watermarks pass, and a source
 * without a watermark strategy sends none, so they hold everything and fire only at the end of
 * input (never, on an unbounded source). That is a warning rather than an error: on a bounded
 * input the output at the end is complete and correct, and a job may want exactly that.
 *
 * - `missingWatermarks(job)`: at plan time, for the operators known to need event time (marked
 *   `eventTime` in their node spec); the CLI prints the lines once at start.
 * - `timerWithoutWatermarks(job)`: for the rest (a process function's use of event-time timers
 *   is known only when it registers one); the runtime hands it to operators.
 */
import { userError } from "../common/errors.ts";
import type { GraphNode } from "./graph.ts";
import type { BuiltJob } from "./job.ts";

const FIX = `env.source(..., { watermarks: boundedOutOfOrderness((r) => r.time, "5s") })`;

/** The sources upstream of each node that `pick` picks (memoised; the graph is a DAG). */
const sourcesUpstream = (nodes: readonly GraphNode[], pick: (source: GraphNode) => boolean): ((node: GraphNode) => ReadonlySet<GraphNode>) => {
  const cache = new Map<number, ReadonlySet<GraphNode>>();
  const of = (node: GraphNode): ReadonlySet<GraphNode> => {
    const known = cache.get(node.id);
    if (known !== undefined) return known;
    const found = new Set<GraphNode>();
    if (node.spec.kind === "source") {
      if (pick(node)) found.add(node);
    } else {
      for (const edge of node.inputs) for (const s of of(nodes[edge.from]!)) found.add(s);
    }
    cache.set(node.id, found);
    return found;
  };
  return of;
};

const hasStrategy = (source: GraphNode) => source.spec.kind === "source" && source.spec.watermarks !== undefined;

/** Sources without a watermark strategy upstream of each node. */
const unwatermarkedSources = (job: BuiltJob): ((node: GraphNode) => ReadonlySet<GraphNode>) => sourcesUpstream(job.nodes, (s) => !hasStrategy(s));

/**
 * At build time: an operator that reads the timestamps records carry (an event-time window or
 * join without a timestamp function, NodeSpec `carriedTimestamps`) while no source upstream has
 * a watermark strategy can never get one: WINDOW_WITHOUT_TIMESTAMP, naming it and the fixes.
 * (With some strategy upstream, a record that arrives without a timestamp fails at run time.)
 */
export const checkCarriedTimestamps = (nodes: readonly GraphNode[]): void => {
  const timed = sourcesUpstream(nodes, hasStrategy);
  for (const node of nodes) {
    if (node.spec.kind !== "operator" || node.spec.carriedTimestamps !== true || timed(node).size > 0) continue;
    throw userError(
      "WINDOW_WITHOUT_TIMESTAMP",
      `operator '${node.name}' is an event-time window or join without a timestamp function, and no source upstream has a watermark strategy, so its records carry no timestamp; ` +
        `give the source one (${FIX}), or pass the record's time: window(assigner, { timestamp: (r) => r.time }) ` +
        `(joins: { timestamp1, timestamp2 })`,
      { operator: node.name },
    );
  }
};

const sourceNames = (sources: Iterable<GraphNode>) => [...sources].map((s) => `'${s.name}'`).join(", ");

/**
 * One line per source without a watermark strategy that feeds an event-time operator: names
 * the source, the operators it holds back and the fix. Empty when every such source has one.
 */
export const missingWatermarks = (job: BuiltJob): string[] => {
  const upstream = unwatermarkedSources(job);
  const held = new Map<GraphNode, string[]>();
  for (const node of job.nodes) {
    if (node.spec.kind !== "operator" || node.spec.eventTime !== true) continue;
    for (const source of upstream(node)) held.set(source, [...(held.get(source) ?? []), node.name]);
  }
  return [...held].map(([source, operators]) => {
    const names = operators.map((o) => `'${o}'`).join(", ");
    return (
      `source '${source.name}' has no watermark strategy, so event-time operator${operators.length > 1 ? "s" : ""} ${names} ` +
      `will fire only at the end of input; give the source one: ${FIX}`
    );
  });
};

/**
 * For an operator not covered by `missingWatermarks`: the line to log if it registers an
 * event-time timer, or undefined when every source upstream has watermarks (nothing to say).
 */
export const timerWithoutWatermarks = (job: BuiltJob): ((node: GraphNode) => string | undefined) => {
  const upstream = unwatermarkedSources(job);
  return (node) => {
    if (node.spec.kind !== "operator" || node.spec.eventTime === true) return undefined;
    const sources = upstream(node);
    if (sources.size === 0) return undefined;
    return (
      `operator '${node.name}' registered an event-time timer, but source${sources.size > 1 ? "s" : ""} ${sourceNames(sources)} ` +
      `upstream ${sources.size > 1 ? "have" : "has"} no watermark strategy, so its event-time timers will fire only at the end of input; ` +
      `give the source one: ${FIX}`
    );
  };
};
