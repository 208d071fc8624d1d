import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { WeirError, internalError } from "../../common/errors.ts";
import { UNEXPECTED_RESTARTS, decideRestart, defaultRestartStrategy, restartDelay, type RestartStrategy } from "./restart.ts";

const retriable = new WeirError("broker unreachable", { code: "KAFKA_UNREACHABLE", domain: "external", retriable: true });
const userError = new WeirError("bad record", { code: "BAD_RECORD", domain: "user", retriable: false });
const unexpected = internalError("INTERNAL", "a bug");

describe("restart strategy", () => {
  it("defaults to Flink's exponential delay: 1 s, ×1.5 per restart in a row, at most 1 min, no limit for retriable failures", () => {
    expect([1, 2, 3, 4, 5].map((n) => restartDelay(defaultRestartStrategy, n))).toEqual([1000, 1500, 2250, 3375, 5063]);
    expect(restartDelay(defaultRestartStrategy, 50)).toBe(60_000);
    const decision = decideRestart(defaultRestartStrategy, { error: retriable, inARow: 1_000, ranForMs: 10 });
    expect(decision).toEqual({ kind: "restart", restart: 1_001, limit: Number.POSITIVE_INFINITY, delayMs: 60_000 });
  });

  it("never restarts a non-retriable user or external error", () => {
    expect(decideRestart(defaultRestartStrategy, { error: userError, inARow: 0, ranForMs: 0 })).toEqual({ kind: "give-up", why: "not-retriable" });
    const lost = new WeirError("transaction lost", { code: "KAFKA_TXN_LOST", domain: "external", retriable: false });
    expect(decideRestart(defaultRestartStrategy, { error: lost, inARow: 0, ranForMs: 0 })).toEqual({ kind: "give-up", why: "not-retriable" });
  });

  it("restarts any other failure at most UNEXPECTED_RESTARTS times in a row, and never more than the user's limit", () => {
    for (let n = 0; n < UNEXPECTED_RESTARTS; n++) {
      expect(decideRestart(defaultRestartStrategy, { error: unexpected, inARow: n, ranForMs: 0 }).kind).toBe("restart");
    }
    expect(decideRestart(defaultRestartStrategy, { error: unexpected, inARow: UNEXPECTED_RESTARTS, ranForMs: 0 })).toEqual({ kind: "give-up", why: "budget" });
    expect(decideRestart(defaultRestartStrategy, { error: new Error("plain"), inARow: UNEXPECTED_RESTARTS, ranForMs: 0 }).kind).toBe("give-up");
    const one: RestartStrategy = { ...defaultRestartStrategy, attempts: 1 };
    expect(decideRestart(one, { error: retriable, inARow: 1, ranForMs: 0 })).toEqual({ kind: "give-up", why: "budget" });
    expect(decideRestart(one, { error: unexpected, inARow: 0, ranForMs: 0 })).toMatchObject({ kind: "restart", limit: 1 });
  });

  it("a run that lasted the reset threshold starts the count and the delay afresh", () => {
    const after = decideRestart(defaultRestartStrategy, { error: unexpected, inARow: UNEXPECTED_RESTARTS, ranForMs: defaultRestartStrategy.resetAfterMs });
    expect(after).toEqual({ kind: "restart", restart: 1, limit: UNEXPECTED_RESTARTS, delayMs: 1000 });
  });

  it("fixed delays stay fixed", () => {
    const fixed: RestartStrategy = { ...defaultRestartStrategy, kind: "fixed", delayMs: 250 };
    expect([1, 2, 10].map((n) => restartDelay(fixed, n))).toEqual([250, 250, 250]);
  });

  it("property: exponential delays never shrink and never exceed the cap", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 600_000 }), fc.integer({ min: 1, max: 200 }), (delayMs, maxDelayMs, n) => {
        const s: RestartStrategy = { ...defaultRestartStrategy, delayMs, maxDelayMs };
        expect(restartDelay(s, n + 1)).toBeGreaterThanOrEqual(restartDelay(s, n));
        expect(restartDelay(s, n)).toBeLessThanOrEqual(Math.max(maxDelayMs, delayMs));
      }),
    );
  });
});
