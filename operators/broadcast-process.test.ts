/** Broadcast process functions through the operator harness: broadcast state, keyed state, timers, snapshot and restore. */
import { describe, expect, it } from "vitest";
import { isWeirError } from "../common/errors.ts";
import { valueState } from "../state/descriptors.ts";
import { broadcastState, BroadcastStore } from "../state/broadcast-state.ts";
import { keyGroupFor, subtaskForKeyGroup } from "../state/key-groups.ts";
import { broadcastProcessOperator, keyedBroadcastProcessOperator, type BroadcastProcessFunction, type KeyedBroadcastProcessFunction } from "./broadcast-process.ts";
import { OperatorHarness } from "./harness.ts";

interface Rule {
  readonly kind: string;
  /** Absent: delete the rule of this kind. */
  readonly limit?: number;
}
interface Ev {
  readonly user: string;
  readonly kind: string;
  readonly amount: number;
}

const rules = broadcastState<string, Rule>("rules");
const names = ["rules"];

/** Alerts on events above their kind's limit; rules come on the broadcast input. */
const alerts: BroadcastProcessFunction<Ev, Rule, string> = {
  processElement(e, ctx, out) {
    const rule = ctx.broadcastState(rules).get(e.kind);
    if (rule?.limit !== undefined && e.amount > rule.limit) out.collect(`${e.user}:${e.kind}:${e.amount}>${rule.limit}@${ctx.subtask}`);
  },
  processBroadcastElement(rule, ctx) {
    const state = ctx.broadcastState(rules);
    if (rule.limit === undefined) state.remove(rule.kind);
    else state.put(rule.kind, rule);
  },
};

const ev = (user: string, kind: string, amount: number): Ev => ({ user, kind, amount });

describe("broadcast process function (non-keyed)", () => {
  it("processElement reads the rules processBroadcastElement stored; a rule can be replaced and removed", async () => {
    const h = await OperatorHarness.open(broadcastProcessOperator({ name: "alerts", fn: alerts }), { keyed: false, broadcastStates: names });
    expect(await h.processElements([ev("u", "pay", 100)])).toEqual([]);
    await h.processElements2([{ kind: "pay", limit: 50 }]);
    expect(await h.processElements([ev("u", "pay", 100), ev("v", "pay", 10), ev("w", "refund", 999)])).toEqual(["u:pay:100>50@0"]);
    await h.processElements2([{ kind: "pay", limit: 200 }]);
    expect(await h.processElements([ev("u", "pay", 100)])).toEqual([]);
    await h.processElements2([{ kind: "pay" }]);
    expect(await h.processElements([ev("u", "pay", 1_000)])).toEqual([]);
  });

  it("processElement gets a read-only handle: it has no put, remove or clear", async () => {
    let handle: object | undefined;
    const h = await OperatorHarness.open(
      broadcastProcessOperator<Ev, Rule, never>({
        name: "peek",
        fn: {
          processElement(_e, ctx) {
            handle = ctx.broadcastState(rules);
          },
          processBroadcastElement() {},
        },
      }),
      { keyed: false, broadcastStates: names },
    );
    await h.processElements([ev("u", "pay", 1)]);
    expect(handle).toBeDefined();
    for (const m of ["put", "remove", "clear"]) expect(m in handle!).toBe(false);
  });

  it("restores the snapshot's broadcast state into every new subtask, at another parallelism", async () => {
    const h = await OperatorHarness.open(broadcastProcessOperator({ name: "alerts", fn: alerts }), { keyed: false, broadcastStates: names, subtask: 0, parallelism: 2 });
    await h.processElements2([{ kind: "pay", limit: 50 }, { kind: "refund", limit: 5 }]);
    const snap = await h.snapshot();
    // Changes after the snapshot are not in it.
    await h.processElements2([{ kind: "pay" }]);
    for (let subtask = 0; subtask < 3; subtask++) {
      const r = await OperatorHarness.open(broadcastProcessOperator({ name: "alerts", fn: alerts }), { keyed: false, broadcastStates: names, subtask, parallelism: 3, restore: snap });
      expect(await r.processElements([ev("u", "pay", 60), ev("u", "refund", 6), ev("u", "pay", 40)])).toEqual([`u:pay:60>50@${subtask}`, `u:refund:6>5@${subtask}`]);
    }
  });

  it("a state the stream does not declare fails with UNKNOWN_BROADCAST_STATE naming the operator and the state", async () => {
    const other = broadcastState<string, number>("limits");
    const h = await OperatorHarness.open(
      broadcastProcessOperator<Ev, Rule, never>({
        name: "wrong",
        fn: {
          processElement() {},
          processBroadcastElement(_r, ctx) {
            ctx.broadcastState(other).put("x", 1);
          },
        },
      }),
      { keyed: false, broadcastStates: names },
    );
    const error = await h.processElements2([{ kind: "pay", limit: 1 }]).catch((e: unknown) => e);
    // The harness opens every operator as 'op'.
    expect(isWeirError(error) && [error.code, error.operator]).toEqual(["UNKNOWN_BROADCAST_STATE", "op"]);
    expect(String(error)).toContain("operator 'op' asked for broadcast state 'limits', which its broadcast stream does not declare (declared: 'rules')");
  });

  it("a throw in processBroadcastElement names the operator, the function and the record", async () => {
    const h = await OperatorHarness.open(
      broadcastProcessOperator<Ev, Rule, never>({
        name: "boom",
        fn: {
          processElement() {},
          processBroadcastElement() {
            throw new Error("bad rule");
          },
        },
      }),
      { keyed: false, broadcastStates: names },
    );
    await expect(h.processElements2([{ kind: "pay", limit: 1 }])).rejects.toThrow(/operator 'boom \(processBroadcastElement\)' threw on record \{"kind":"pay","limit":1\}.*bad rule/);
  });
});

type Counted = { readonly count: ReturnType<typeof valueState<number>> };

/** Counts each user's events; an event above the limit alerts with the count, and a timer at amount reports the rule then in force. */
const keyedAlerts: KeyedBroadcastProcessFunction<Ev, Rule, string, string, Counted> = {
  state: { count: valueState(0) },
  processElement(e, ctx, out) {
    const count = ctx.state.count.value() + 1;
    ctx.state.count.update(count);
    const rule = ctx.broadcastState(rules).get(e.kind);
    if (rule?.limit !== undefined && e.amount > rule.limit) out.collect(`${ctx.key}#${count}:${e.amount}>${rule.limit}`);
    ctx.timerService.registerEventTimeTimer(e.amount);
  },
  processBroadcastElement(rule, ctx) {
    ctx.broadcastState(rules).put(rule.kind, rule);
  },
  onTimer(ts, ctx, out) {
    out.collect(`${ctx.key}@${ts}:${ctx.state.count.value()}:${ctx.broadcastState(rules).size}`);
  },
};

const keyedOp = () => keyedBroadcastProcessOperator({ name: "keyed-alerts", key: (e: Ev) => e.user, fn: keyedAlerts });

describe("keyed broadcast process function", () => {
  it("has keyed state and timers in processElement and onTimer, and reads broadcast state in both", async () => {
    const h = await OperatorHarness.open(keyedOp(), { broadcastStates: names });
    await h.processElements2([{ kind: "pay", limit: 10 }]);
    expect(await h.processElements([ev("a", "pay", 5), ev("a", "pay", 20), ev("b", "pay", 30)])).toEqual(["a#2:20>10", "b#1:30>10"]);
    await h.processElements2([{ kind: "refund", limit: 0 }]);
    expect(await h.processWatermark(20)).toEqual(["a@5:2:2", "a@20:2:2"]);
  });

  it("restores keyed state by key group and the whole broadcast state into every subtask at another parallelism", async () => {
    const users = ["a", "b", "c", "d", "e", "f"];
    const before = await OperatorHarness.open(keyedOp(), { broadcastStates: names });
    await before.processElements2([{ kind: "pay", limit: 10 }]);
    await before.processElements(users.map((u) => ev(u, "pay", 1)));
    const snap = await before.snapshot();
    for (let subtask = 0; subtask < 3; subtask++) {
      const after = await OperatorHarness.open(keyedOp(), { broadcastStates: names, subtask, parallelism: 3, restore: snap });
      const mine = users.filter((u) => subtaskForKeyGroup(keyGroupFor(u, 128), 3, 128) === subtask);
      expect(await after.processElements(mine.map((u) => ev(u, "pay", 50)))).toEqual(mine.map((u) => `${u}#2:50>10`));
    }
  });
});

describe("BroadcastStore", () => {
  it("round-trips entries of every key type and their values (keyed state's codec) through a snapshot; undeclared restored states are kept", () => {
    const a = broadcastState<string | number | bigint | boolean, unknown>("a");
    const store = new BroadcastStore({ operator: "op", declared: ["a"] });
    const w = store.writer(a);
    const when = new Date(5);
    w.put("s", { nested: [1, "x"] });
    w.put(2, when);
    w.put(3n, [1, -0.5]);
    w.put(true, null);
    const restored = new BroadcastStore({ operator: "op", declared: ["a"], restored: { ...store.snapshot(), old: new BroadcastStore({ operator: "op", declared: ["old"] }).snapshot().old! } });
    const r = restored.reader(a);
    expect([...r.entries()]).toEqual([
      ["s", { nested: [1, "x"] }],
      [2, when],
      [3n, [1, -0.5]],
      [true, null],
    ]);
    expect(r.contains(3n)).toBe(true);
    expect(Object.keys(restored.snapshot()).sort()).toEqual(["a", "old"]);
  });
});
