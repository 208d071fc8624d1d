import { describe, expect, it } from "vitest";
import { decideTrigger, type TriggerConfig, type TriggerView } from "./trigger-decider.ts";

const config: TriggerConfig = { intervalMs: 100, minPauseMs: 0, maxConcurrent: 1 };
const view = (v: Partial<TriggerView>): TriggerView => ({
  now: 0,
  pendingCount: 0,
  lastTriggerAt: 0,
  lastSettledAt: undefined,
  requested: false,
  ...v,
});

describe("decideTrigger", () => {
  it("waits until lastTriggerAt + interval, then triggers", () => {
    expect(decideTrigger(config, view({ lastTriggerAt: 1_000, now: 1_050 }))).toEqual({ kind: "wait", untilAt: 1_100 });
    expect(decideTrigger(config, view({ lastTriggerAt: 1_000, now: 1_099 }))).toEqual({ kind: "wait", untilAt: 1_100 });
    expect(decideTrigger(config, view({ lastTriggerAt: 1_000, now: 1_100 }))).toEqual({ kind: "trigger" });
    expect(decideTrigger(config, view({ lastTriggerAt: 1_000, now: 9_999 }))).toEqual({ kind: "trigger" });
  });

  it("without a settled checkpoint, the min pause does not apply", () => {
    const c = { ...config, minPauseMs: 5_000 };
    expect(decideTrigger(c, view({ lastTriggerAt: 0, now: 100 }))).toEqual({ kind: "trigger" });
  });

  it("waits minPause after the last settlement when that is later than the interval", () => {
    const c = { ...config, minPauseMs: 300 };
    const v = { lastTriggerAt: 0, lastSettledAt: 50 };
    expect(decideTrigger(c, view({ ...v, now: 200 }))).toEqual({ kind: "wait", untilAt: 350 });
    expect(decideTrigger(c, view({ ...v, now: 349 }))).toEqual({ kind: "wait", untilAt: 350 });
    expect(decideTrigger(c, view({ ...v, now: 350 }))).toEqual({ kind: "trigger" });
  });

  it("uses the interval when it ends later than the min pause", () => {
    const c = { ...config, minPauseMs: 10 };
    expect(decideTrigger(c, view({ lastTriggerAt: 0, lastSettledAt: 20, now: 50 }))).toEqual({ kind: "wait", untilAt: 100 });
  });

  it("never triggers while maxConcurrent checkpoints are pending, and gives no wake-up time", () => {
    expect(decideTrigger(config, view({ pendingCount: 1, now: 10_000 }))).toEqual({ kind: "wait", untilAt: undefined });
    expect(decideTrigger(config, view({ pendingCount: 1, now: 10_000, requested: true }))).toEqual({ kind: "wait", untilAt: undefined });
    const two = { ...config, maxConcurrent: 2 };
    expect(decideTrigger(two, view({ pendingCount: 1, now: 10_000 }))).toEqual({ kind: "trigger" });
    expect(decideTrigger(two, view({ pendingCount: 2, now: 10_000 }))).toEqual({ kind: "wait", untilAt: undefined });
  });

  it("a request skips the interval and the min pause when a slot is free", () => {
    const c = { ...config, minPauseMs: 1_000 };
    expect(decideTrigger(c, view({ lastTriggerAt: 0, lastSettledAt: 5, now: 6, requested: true }))).toEqual({ kind: "trigger" });
  });
});
