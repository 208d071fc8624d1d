/**
 * A plan-time check for event time without watermarks. Event-time operators (event-time
 * windows, interval joins) make progress only as watermarks pass, and a source without a
 * watermark strategy sends none, so they would hold everything and fire only at the end of
 * input (never, on an unbounded source). That is a warning rather than an error: on a bounded
 * input the output at the end is complete and correct, and a job may want exactly that.
 *
 * ```ts
 * for (const line of missingWatermarks(job)) log(`warning: ${line}`);
 * ```
 */
import type { GraphNode } from "./graph.ts";
import type { BuiltJob } from "./job.ts";

/**
 * One line per source without a watermark strategy that feeds an event-time operator: names
 * the source, the operators it holds back and the fix. Empty when every such source has one.
 */
export const missingWatermarks = (job: BuiltJob): string[] => {
  const nodes = job.nodes;
  /** Sources without watermarks upstream of `node` (by id), memoised. */
  const cache = new Map<number, ReadonlySet<GraphNode>>();
  const unwatermarked = (node: GraphNode): ReadonlySet<GraphNode> => {
    const known = cache.get(node.id);
    if (known !== undefined) return known;
    const found = new Set<GraphNode>();
    if (node.spec.kind === "source") {
      if (node.spec.watermarks === undefined) found.add(node);
    } else {
      for (const edge of node.inputs) for (const s of unwatermarked(nodes[edge.from]!)) found.add(s);
    }
    cache.set(node.id, found);
    return found;
  };

  const held = new Map<GraphNode, string[]>();
  for (const node of nodes) {
    if (node.spec.kind !== "operator" || node.spec.eventTime !== true) continue;
    for (const source of unwatermarked(node)) held.set(source, [...(held.get(source) ?? []), node.name]);
  }
  return [...held].map(([source, operators]) => {
    const names = operators.map((o) => `'${o}'`).join(", ");
    return (
      `source '${source.name}' has no watermark strategy, so event-time operator${operators.length > 1 ? "s" : ""} ${names} ` +
      `will fire only at the end of input; give the source one: env.source(..., { watermarks: boundedOutOfOrderness((r) => r.time, "5s") })`
    );
  });
};
