import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { openHeapBackend } from "../state/heap-backend.ts";
import { keyGroupFor, type KeyValue } from "../state/key-groups.ts";
import { KeyedStateStore } from "../state/keyed-store.ts";
import { KeyedTimers, type TimeDomain } from "./timers.ts";

type Op =
  | { kind: "register" | "delete"; key: KeyValue; ts: number; domain: TimeDomain }
  | { kind: "poll"; domain: TimeDomain; upTo: number }
  | { kind: "restore" }
  /** A checkpoint's cut, not awaited: written while later ops run; its copy is checked at the end. */
  | { kind: "cut" }
  | { kind: "yield" };

// Few keys and timestamps, so the same timer is registered, deleted and restored many times.
// Keys that must stay apart: a number and its string, composite keys of them, and a string that
// reads like a composite key's encoding.
const key = fc.constantFrom<KeyValue>("a", 0, "0", ["a", 0], ["a", "0"], "\u0000a");
const domain = fc.constantFrom<TimeDomain>("event", "processing");
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constantFrom<"register" | "delete">("register", "delete"), key, ts: fc.integer({ min: 0, max: 2 }), domain }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("poll" as const), domain, upTo: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("restore" as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("cut" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("yield" as const) }) },
);

/** The timers a fresh store over a copy of `cells` restores. */
const restoredFrom = async (cells: readonly (readonly [Buffer, Buffer])[]): Promise<string[]> => {
  const backend = openHeapBackend();
  await backend.write(cells.map(([key, value]) => ({ kind: "put" as const, key, value })));
  const timers = new KeyedTimers(new KeyedStateStore({ backend }));
  await timers.restore({ start: 0, end: 127 });
  return [...timers.pollDue("event", 1e9), ...timers.pollDue("processing", 1e9)].map((t) => id(t.domain, t.timestamp, t.key)).sort();
};

const id = (d: TimeDomain, ts: number, k: KeyValue) => `${d}|${ts}|${JSON.stringify(k)}`;

describe("keyed timers", () => {
  it("property: behave like a set of (domain, timestamp, key); a flush + restore keeps exactly the live timers, and each cut exactly those live at it", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const backend = openHeapBackend();
        let store = new KeyedStateStore({ backend });
        let timers = new KeyedTimers(store);
        const model = new Map<string, { d: TimeDomain; ts: number; k: KeyValue }>();
        const cuts: { expected: string[]; copy: Promise<{ result: (readonly [Buffer, Buffer])[] }> }[] = [];
        for (const o of ops) {
          if (o.kind === "cut") {
            const copy = store.snapshot(async () => {
              const cells: (readonly [Buffer, Buffer])[] = [];
              for await (const [k, v] of backend.scan({ gte: Buffer.alloc(0), lt: Buffer.from([0xff, 0xff, 0xff]) })) cells.push([k, v]);
              return cells;
            });
            cuts.push({ expected: [...model.keys()].sort(), copy });
            continue;
          }
          if (o.kind === "yield") {
            await Promise.resolve();
            continue;
          }
          if (o.kind === "register" || o.kind === "delete") {
            store.setCurrentKey(o.key, keyGroupFor(o.key, 128));
            if (o.kind === "register") {
              timers.register(o.domain, o.ts);
              model.set(id(o.domain, o.ts, o.key), { d: o.domain, ts: o.ts, k: o.key });
            } else {
              timers.delete(o.domain, o.ts);
              model.delete(id(o.domain, o.ts, o.key));
            }
          } else if (o.kind === "poll") {
            const fired = timers.pollDue(o.domain, o.upTo).map((t) => id(t.domain, t.timestamp, t.key));
            const expected = [...model].filter(([, t]) => t.d === o.domain && t.ts <= o.upTo);
            // Timestamp order.
            const stamps = fired.map((f) => model.get(f)!.ts);
            expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
            expect(fired.sort()).toEqual(expected.map(([k]) => k).sort());
            for (const [k] of expected) model.delete(k);
          } else {
            await store.flush();
            store = new KeyedStateStore({ backend });
            timers = new KeyedTimers(store);
            await timers.restore({ start: 0, end: 127 });
          }
          expect(timers.size).toBe(model.size);
        }
        for (const { expected, copy } of cuts) expect(await restoredFrom((await copy).result)).toEqual(expected);
        // Whatever is left fires once, in order.
        const rest = [...timers.pollDue("event", 1e9), ...timers.pollDue("processing", 1e9)].map((t) => id(t.domain, t.timestamp, t.key));
        expect(rest.sort()).toEqual([...model.keys()].sort());
      }),
      {
        numRuns: 500,
        examples: [
          [
            [
              { kind: "register", key: "a", ts: 1, domain: "event" },
              { kind: "restore" },
              { kind: "delete", key: "a", ts: 1, domain: "event" },
              { kind: "register", key: "a", ts: 1, domain: "event" },
              { kind: "delete", key: "a", ts: 1, domain: "event" },
              { kind: "restore" },
            ],
          ],
        ],
      },
    );
  });
});
