/**
 * The pure alignment transitions. The property that the real InputTask carries them out
 * correctly (records before snapshot n = records before barrier n on every input) is in
 * engine/input-task.test.ts.
 */
import { describe, expect, it } from "vitest";
import { initialAlignment, onBarrier, onChannelEnd, type AlignmentState } from "./alignment.ts";

const open = (...channels: number[]): ReadonlySet<number> => new Set(channels);

const collecting = (id: number, ...received: number[]): AlignmentState => ({ kind: "collecting", id, received: new Set(received) });

describe("initialAlignment", () => {
  it("starts waiting, with lastId 0 by default or the restored checkpoint id", () => {
    expect(initialAlignment()).toEqual({ kind: "waiting", lastId: 0 });
    expect(initialAlignment(41)).toEqual({ kind: "waiting", lastId: 41 });
  });

  it("after a restore from checkpoint 5, barrier 5 is stale and barrier 6 is taken", () => {
    const s = initialAlignment(5);
    expect(onBarrier(s, 0, 5, open(0))).toEqual({ state: s, actions: [] });
    expect(onBarrier(s, 0, 6, open(0)).actions).toContainEqual({ kind: "snapshot", id: 6 });
  });
});

describe("onBarrier", () => {
  it("with a single open channel snapshots at once and unblocks, without blocking", () => {
    const r = onBarrier(initialAlignment(), 0, 1, open(0));
    expect(r.actions).toEqual([{ kind: "snapshot", id: 1 }, { kind: "unblock-all" }]);
    expect(r.state).toEqual({ kind: "waiting", lastId: 1 });
  });

  it("with two open channels blocks the first, then snapshots and unblocks on the second", () => {
    const first = onBarrier(initialAlignment(), 1, 1, open(0, 1));
    expect(first.actions).toEqual([{ kind: "block", channel: 1 }]);
    expect(first.state).toEqual(collecting(1, 1));
    const second = onBarrier(first.state, 0, 1, open(0, 1));
    expect(second.actions).toEqual([{ kind: "snapshot", id: 1 }, { kind: "unblock-all" }]);
    expect(second.state).toEqual({ kind: "waiting", lastId: 1 });
  });

  it("with three channels snapshots only after the third, blocking each one as it delivers", () => {
    const all = open(0, 1, 2);
    const a = onBarrier(initialAlignment(), 2, 1, all);
    const b = onBarrier(a.state, 0, 1, all);
    expect(b.actions).toEqual([{ kind: "block", channel: 0 }]);
    expect(b.state).toEqual(collecting(1, 2, 0));
    const c = onBarrier(b.state, 1, 1, all);
    expect(c.actions).toEqual([{ kind: "snapshot", id: 1 }, { kind: "unblock-all" }]);
  });

  it("a channel that ended before the barrier counts as delivered", () => {
    // Channel 1 ended: only channel 0 is open, so its barrier completes at once.
    const r = onBarrier(initialAlignment(), 0, 1, open(0));
    expect(r.actions).toContainEqual({ kind: "snapshot", id: 1 });
    // Three channels, the middle one ended: two barriers suffice.
    const a = onBarrier(initialAlignment(), 0, 1, open(0, 2));
    expect(a.actions).toEqual([{ kind: "block", channel: 0 }]);
    expect(onBarrier(a.state, 2, 1, open(0, 2)).actions).toEqual([{ kind: "snapshot", id: 1 }, { kind: "unblock-all" }]);
  });

  it("ignores a duplicate barrier on a channel that already delivered it", () => {
    const s = collecting(3, 0);
    expect(onBarrier(s, 0, 3, open(0, 1))).toEqual({ state: s, actions: [] });
  });

  it("ignores a barrier older than the one being collected", () => {
    const s = collecting(3, 0);
    expect(onBarrier(s, 1, 2, open(0, 1))).toEqual({ state: s, actions: [] });
  });

  it("ignores, while waiting, a barrier not newer than the last completed one", () => {
    const s: AlignmentState = { kind: "waiting", lastId: 4 };
    expect(onBarrier(s, 0, 4, open(0, 1))).toEqual({ state: s, actions: [] });
    expect(onBarrier(s, 1, 2, open(0, 1))).toEqual({ state: s, actions: [] });
  });

  it("a barrier arriving again after its snapshot is stale", () => {
    const done = onBarrier(onBarrier(initialAlignment(), 0, 1, open(0, 1)).state, 1, 1, open(0, 1)).state;
    expect(onBarrier(done, 0, 1, open(0, 1)).actions).toEqual([]);
  });

  it("a newer barrier abandons the older alignment, unblocks, and starts collecting the newer one", () => {
    const r = onBarrier(collecting(3, 0), 1, 5, open(0, 1, 2));
    expect(r.actions).toEqual([{ kind: "unblock-all" }, { kind: "block", channel: 1 }]);
    expect(r.state).toEqual(collecting(5, 1));
  });

  it("a newer barrier that is already complete abandons the older one and snapshots the newer", () => {
    const r = onBarrier(collecting(3, 0), 0, 4, open(0));
    expect(r.actions).toEqual([{ kind: "unblock-all" }, { kind: "snapshot", id: 4 }, { kind: "unblock-all" }]);
    expect(r.state).toEqual({ kind: "waiting", lastId: 4 });
  });

  it("after abandoning n, the late barrier n of another channel is ignored", () => {
    const abandoned = onBarrier(collecting(3, 0), 1, 4, open(0, 1, 2)).state;
    expect(onBarrier(abandoned, 2, 3, open(0, 1, 2))).toEqual({ state: abandoned, actions: [] });
  });

  it("does not mutate the received set of the state it was given", () => {
    const received = new Set([0]);
    const s: AlignmentState = { kind: "collecting", id: 1, received };
    onBarrier(s, 1, 1, open(0, 1, 2));
    expect([...received]).toEqual([0]);
  });
});

describe("onChannelEnd", () => {
  it("while collecting, the end of the last missing channel completes the alignment", () => {
    const a = onBarrier(initialAlignment(), 0, 1, open(0, 1));
    const r = onChannelEnd(a.state, open(0)); // channel 1 ended without barrier 1
    expect(r.actions).toEqual([{ kind: "snapshot", id: 1 }, { kind: "unblock-all" }]);
    expect(r.state).toEqual({ kind: "waiting", lastId: 1 });
  });

  it("while collecting, the end of one of several missing channels only shrinks the set", () => {
    const a = onBarrier(initialAlignment(), 0, 1, open(0, 1, 2));
    const r = onChannelEnd(a.state, open(0, 2));
    expect(r).toEqual({ state: a.state, actions: [] });
    expect(onBarrier(r.state, 2, 1, open(0, 2)).actions).toContainEqual({ kind: "snapshot", id: 1 });
  });

  it("while waiting, does nothing", () => {
    const s: AlignmentState = { kind: "waiting", lastId: 2 };
    expect(onChannelEnd(s, open(1))).toEqual({ state: s, actions: [] });
    expect(onChannelEnd(s, open())).toEqual({ state: s, actions: [] });
  });
});
