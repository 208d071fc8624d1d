/**
 * Broadcast state through the whole runtime (runDefinition): a rules stream broadcast to an
 * events operator, keyed and not keyed. A run stopped at a checkpoint taken after every subtask
 * applied every rule is restored at another parallelism (2 -> 3, 3 -> 1): every new subtask
 * applies the restored rules to the events after the checkpoint (the rules source has nothing
 * left to send), keyed state continues, and every event is processed exactly once over both runs.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { broadcastState, generator, job, valueState, type Collector } from "../index.ts";
import { checkpointPath, listCheckpointIds, readMetadata } from "../checkpoint/storage.ts";
import { restorePlanFrom } from "../engine/restore-plan.ts";
import { inspectCheckpoint } from "../engine/cli/checkpoints-command.ts";
import { collectSink, multiset, runDefinition } from "./support/run.ts";

interface Rule {
  readonly kind: string;
  readonly limit: number;
}
interface Ev {
  readonly user: string;
  readonly kind: string;
  readonly seq: number;
}
interface Out {
  readonly user: string;
  readonly seq: number;
  /** The limit of the event's kind in the broadcast state when the event was processed (null: none yet). */
  readonly limit: number | null;
  readonly subtask: number;
  /** The user's event count so far (keyed variant: keyed state), 0 in the non-keyed variant. */
  readonly count: number;
}

const KINDS = ["pay", "refund", "fee"];
const RULES: Rule[] = KINDS.map((kind, i) => ({ kind, limit: (i + 1) * 10 }));
const EVENT_SPLITS = 4;
const PER_SPLIT = 400;
const ruleState = broadcastState<string, Rule>("rules");

const eventsSource = (rate?: number) =>
  generator<Ev>({
    splits: EVENT_SPLITS,
    recordsPerSplit: PER_SPLIT,
    generate: ({ split, index }) => ({ user: `u${split}-${index % 5}`, kind: KINDS[index % KINDS.length]!, seq: split * PER_SPLIT + index }),
    ...(rate === undefined ? {} : { ratePerSecond: rate }),
  });
const rulesSource = generator<Rule>({ splits: 1, recordsPerSplit: RULES.length, generate: ({ index }) => RULES[index]! });

/** Events joined with the rules; `applied` counts rule applications over all subtasks. */
const rulesJob = (keyed: boolean, sink: ReturnType<typeof collectSink<Out>>, applied: { n: number }, rate?: number) =>
  job(keyed ? "keyed-rules" : "rules", (env) => {
    const rules = env.source(rulesSource, { name: "rules", parallelism: 1 }).broadcast(ruleState);
    const events = env.source(eventsSource(rate), { name: "events", parallelism: 2 });
    const processBroadcastElement = (rule: Rule, ctx: { broadcastState: (d: typeof ruleState) => { put(k: string, v: Rule): void } }) => {
      ctx.broadcastState(ruleState).put(rule.kind, rule);
      applied.n++;
    };
    const joined = keyed
      ? events.keyBy((e) => e.user).connect(rules).process(
          {
            state: { count: valueState(0) },
            processElement(e, ctx, out: Collector<Out>) {
              const count = ctx.state.count.value() + 1;
              ctx.state.count.update(count);
              out.collect({ user: e.user, seq: e.seq, limit: ctx.broadcastState(ruleState).get(e.kind)?.limit ?? null, subtask: ctx.subtask, count });
            },
            processBroadcastElement,
          },
          { name: "apply-rules" },
        )
      : events.rebalance().connect(rules).process(
          {
            processElement(e, ctx, out: Collector<Out>) {
              out.collect({ user: e.user, seq: e.seq, limit: ctx.broadcastState(ruleState).get(e.kind)?.limit ?? null, subtask: ctx.subtask, count: 0 });
            },
            processBroadcastElement,
          },
          { name: "apply-rules" },
        );
    joined.sink(sink, { name: "out" });
  });

const limitOf = (seq: number) => RULES[(seq % PER_SPLIT) % KINDS.length]!.limit;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-broadcast-state-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("broadcast state in the runtime", () => {
  it("every subtask applies every rule; without a restore events see the rules once they arrived", async () => {
    const sink = collectSink<Out>();
    const applied = { n: 0 };
    await runDefinition(rulesJob(true, sink, applied), { parallelism: 3 });
    expect(applied.n).toBe(RULES.length * 3);
    expect(sink.all()).toHaveLength(EVENT_SPLITS * PER_SPLIT);
    for (const r of sink.all()) if (r.limit !== null) expect(r.limit).toBe(limitOf(r.seq));
  });

  it("a broadcast stream declaring one state name twice is refused when the job is built", async () => {
    const twice = job("twice", (env) => {
      env.source(rulesSource, { name: "rules" }).broadcast(ruleState, broadcastState<string, number>("rules"));
    });
    await expect(runDefinition(twice)).rejects.toMatchObject({ code: "DUPLICATE_BROADCAST_STATE", message: expect.stringContaining("'rules' twice") });
  });

  for (const [keyed, before, after] of [
    [true, 2, 3],
    [false, 3, 1],
  ] as const) {
    it(`${keyed ? "keyed" : "non-keyed"}: restored at parallelism ${after} from ${before}, every new subtask processes the events after the checkpoint with the restored rules`, async () => {
      const name = keyed ? "keyed-rules" : "rules";
      const root = join(tmp, `chk-${name}`);
      const first = collectSink<Out>();
      const applied = { n: 0 };
      const stop = new AbortController();
      // The first checkpoint triggered once every subtask applied every rule: its barriers follow the rules everywhere.
      let afterRules: number | undefined;
      const stopped = await runDefinition(rulesJob(keyed, first, applied, 4_000), {
        parallelism: before,
        batchSize: 8,
        stopSignal: stop.signal,
        checkpoints: { root, config: { intervalMs: 30 } },
        onCheckpointTriggered: (id) => {
          if (afterRules === undefined && applied.n === RULES.length * before) afterRules = id;
        },
        onCheckpoint: (c) => {
          if (afterRules !== undefined && c.id >= afterRules) stop.abort();
        },
      });
      expect(stopped.outcome).toBe("stopped");
      const [last] = (await listCheckpointIds(root, name)).slice(-1);
      const dir = checkpointPath(root, name, last!);
      const metadata = await readMetadata(dir);
      // One copy of the broadcast state, written by subtask 0.
      expect(metadata.tasks.flatMap((t) => t.broadcast ?? []).map((b) => [b.operator, b.subtask])).toEqual([["apply-rules", 0]]);
      expect(first.all().length).toBeLessThan(EVENT_SPLITS * PER_SPLIT);
      // `weir checkpoints <path>` lists it.
      const lines: string[] = [];
      await inspectCheckpoint(dir, (l) => void lines.push(l));
      expect(lines).toContain("broadcast state (one copy, restored into every subtask):");
      expect(lines.some((l) => /^  apply-rules\[0\]: rules \(3 entries, \d+ B\)$/.test(l))).toBe(true);

      const second = collectSink<Out>();
      const appliedAgain = { n: 0 };
      const restored = await runDefinition(rulesJob(keyed, second, appliedAgain), {
        parallelism: after,
        batchSize: 8,
        checkpoints: {
          root: join(tmp, `chk-${name}-2`),
          // The first run committed its last checkpoint's output before it stopped.
          restore: { ...restorePlanFrom(metadata, dir), committables: new Map(), maxParallelism: metadata.maxParallelism },
        },
      });
      expect(restored.outcome).toBe("finished");
      // No rule was sent again: the rules source was restored at its end.
      expect(appliedAgain.n).toBe(0);
      // Every event exactly once over both runs.
      expect(multiset([...first.all(), ...second.all()].map((r) => r.seq))).toEqual(multiset(Array.from({ length: EVENT_SPLITS * PER_SPLIT }, (_, k) => k)));
      // After the restore, every event on every new subtask saw its kind's rule.
      expect(second.all().length).toBeGreaterThan(0);
      for (const r of second.all()) expect(r.limit).toBe(limitOf(r.seq));
      for (let subtask = 0; subtask < after; subtask++) expect(second.all().some((r) => r.subtask === subtask)).toBe(true);
      if (keyed) {
        // Keyed state continued: each user's counts over both runs are 1..n.
        const counts = new Map<string, number[]>();
        for (const r of [...first.all(), ...second.all()]) counts.set(r.user, [...(counts.get(r.user) ?? []), r.count]);
        for (const cs of counts.values()) expect(cs.sort((a, b) => a - b)).toEqual(cs.map((_, i) => i + 1));
      }
    });
  }
});
