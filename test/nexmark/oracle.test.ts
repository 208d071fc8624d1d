import { describe, expect, it } from "vitest";
import { generateEvent, nexmarkConfig } from "../../connectors/nexmark/generator.ts";
import type { Auction, Bid, Event, Person } from "../../connectors/nexmark/model.ts";
import { q0, q1, q2, q3, q4, q4Rows, q5, q7, q8, qhc, slidingStarts, tumblingStart } from "./oracle.ts";

const person = (p: Partial<Person> & { id: number }): Event => ({
  kind: "person",
  person: { name: "Peter Smith", emailAddress: "a@b.com", creditCard: "0000 0000 0000 0000", city: "Bend", state: "OR", dateTime: 0, extra: "", ...p },
});
const auction = (a: Partial<Auction> & { id: number }): Event => ({
  kind: "auction",
  auction: { itemName: "item", description: "desc", initialBid: 1, reserve: 2, dateTime: 0, expires: 100_000, seller: 1000, category: 10, extra: "", ...a },
});
const bid = (b: Partial<Bid> & { auction: number }): Event => ({
  kind: "bid",
  bid: { bidder: 2000, price: 100, channel: "Google", url: "u", dateTime: 0, extra: "x", ...b },
});

/** Order-insensitive comparison, as the callers do. */
const sorted = (rows: readonly unknown[]): string[] => rows.map((r) => JSON.stringify(r)).sort();

describe("window helpers", () => {
  it("tumbling windows are [start, start + 10000)", () => {
    expect(tumblingStart(0)).toBe(0);
    expect(tumblingStart(9_999)).toBe(0);
    expect(tumblingStart(10_000)).toBe(10_000);
    expect(tumblingStart(1_436_918_412_345)).toBe(1_436_918_410_000);
  });
  it("sliding windows: 5 starts s, s-2000, ..., s-8000", () => {
    expect(slidingStarts(10_000)).toEqual([10_000, 8_000, 6_000, 4_000, 2_000]);
    expect(slidingStarts(11_999)).toEqual([10_000, 8_000, 6_000, 4_000, 2_000]);
    expect(slidingStarts(1)).toEqual([0, -2_000, -4_000, -6_000, -8_000]);
  });
});

describe("q0 / q1 / q2", () => {
  const events = [person({ id: 1 }), bid({ auction: 246, price: 1000, bidder: 7, dateTime: 5, extra: "e" }), bid({ auction: 247, price: 3 })];
  it("q0 passes bids through with exact key order", () => {
    expect(JSON.stringify(q0(events)[0])).toBe('{"auction":246,"bidder":7,"price":1000,"dateTime":5,"extra":"e"}');
    expect(q0(events)).toHaveLength(2);
  });
  it("q1 multiplies by 0.908 as a float", () => {
    expect(q1(events).map((r) => r.price)).toEqual([1000 * 0.908, 3 * 0.908]);
    expect(Object.keys(q1(events)[0] ?? {})).toEqual(["auction", "bidder", "price", "dateTime", "extra"]);
  });
  it("q2 keeps auction % 123 === 0", () => {
    expect(q2(events)).toEqual([{ auction: 246, price: 1000, dateTime: 5 }]);
  });
});

describe("q3", () => {
  it("filters category 10 and states OR/ID/CA, and joins regardless of order", () => {
    const events = [
      auction({ id: 1, seller: 100, category: 10 }), // before its person
      person({ id: 100, name: "A", city: "Bend", state: "OR" }),
      person({ id: 101, name: "B", city: "Boise", state: "ID" }),
      person({ id: 102, name: "C", city: "Seattle", state: "WA" }), // wrong state
      auction({ id: 2, seller: 101, category: 10, dateTime: 7 }),
      auction({ id: 3, seller: 101, category: 11 }), // wrong category
      auction({ id: 4, seller: 102, category: 10 }),
      auction({ id: 5, seller: 999, category: 10 }), // no person
      auction({ id: 6, seller: 100, category: 10 }),
    ];
    expect(sorted(q3(events))).toEqual(
      sorted([
        { name: "A", city: "Bend", state: "OR", id: 1, dateTime: 0 },
        { name: "B", city: "Boise", state: "ID", id: 2, dateTime: 7 },
        { name: "A", city: "Bend", state: "OR", id: 6, dateTime: 0 },
      ]),
    );
    expect(Object.keys(q3(events)[0] ?? {})).toEqual(["name", "city", "state", "id", "dateTime"]);
  });
});

describe("q4", () => {
  it("counts bids in [dateTime, expires] inclusive, excludes bids outside, truncates the average", () => {
    const events = [
      bid({ auction: 1, price: 10_000, dateTime: 99 }), // before the auction: excluded
      auction({ id: 1, category: 10, dateTime: 100, expires: 200 }),
      bid({ auction: 1, price: 5, dateTime: 100 }), // at start: included
      bid({ auction: 1, price: 7, dateTime: 200 }), // at expires: included
      bid({ auction: 1, price: 9_999, dateTime: 201 }), // after: excluded
      auction({ id: 2, category: 10, dateTime: 100, expires: 300 }),
      bid({ auction: 2, price: 4, dateTime: 150 }),
      auction({ id: 3, category: 11, dateTime: 0, expires: 10 }), // no bid in range: excluded
      bid({ auction: 3, price: 1, dateTime: 11 }),
      auction({ id: 4, category: 12, dateTime: 0, expires: 10 }),
      bid({ auction: 4, price: 3, dateTime: 0 }),
      bid({ auction: 4, price: 2, dateTime: 10 }),
      bid({ auction: 5, price: 50, dateTime: 5 }), // unknown auction
    ];
    // category 10: finals 7 and 4 → trunc(11 / 2) = 5; category 12: final 3.
    expect(q4(events)).toEqual(new Map([[10, 5], [12, 3]]));
    expect(sorted(q4Rows(events))).toEqual(sorted([{ category: 10, avg: 5 }, { category: 12, avg: 3 }]));
  });
});

describe("q5", () => {
  it("keeps ties and emits per window", () => {
    // Bids at t = 0 (windows -8000..0) and t = 9_999 (windows 0..8000; s = 8000).
    const events = [bid({ auction: 1, dateTime: 0 }), bid({ auction: 2, dateTime: 0 }), bid({ auction: 1, dateTime: 9_999 })];
    // Windows -8000..-2000 (4): auctions 1 and 2 tie at 1 each → 8 rows.
    // Window 0: auction 1 has 2, auction 2 has 1 → {1, 2}.
    // Windows 2000..8000 (4): only auction 1 with 1 → 4 rows.
    const expected = [
      ...[-8000, -6000, -4000, -2000].flatMap((start) => [
        { auction: 1, num: 1, end: start + 10_000 },
        { auction: 2, num: 1, end: start + 10_000 },
      ]),
      { auction: 1, num: 2, end: 10_000 },
      ...[2000, 4000, 6000, 8000].map((start) => ({ auction: 1, num: 1, end: start + 10_000 })),
    ];
    expect(sorted(q5(events))).toEqual(sorted(expected));
  });
  it("a bid at exactly the window end belongs to the next window", () => {
    const events = [bid({ auction: 1, dateTime: 10_000 }), bid({ auction: 2, dateTime: 10_000 }), bid({ auction: 2, dateTime: 9_999 })];
    // Window [0, 10000) holds only auction 2's 9_999 bid; windows 2000..8000 hold all three (2 beats 1);
    // window 10000 holds one each (tie).
    const rows = q5(events).map(({ auction, num }) => JSON.stringify({ auction, num }));
    expect(rows.filter((r) => r === JSON.stringify({ auction: 2, num: 1 }))).toHaveLength(2); // window 0 and window 10000
    expect(rows.filter((r) => r === JSON.stringify({ auction: 2, num: 2 }))).toHaveLength(4);
    expect(rows.filter((r) => r === JSON.stringify({ auction: 1, num: 1 }))).toHaveLength(1);
    expect(rows).toHaveLength(7);
    expect(q5(events).find((r) => r.auction === 1)?.end).toBe(20_000);
  });
});

describe("q7", () => {
  it("emits all bids with the window's max price, per tumbling window", () => {
    const events = [
      bid({ auction: 1, price: 5, bidder: 1, dateTime: 0 }),
      bid({ auction: 2, price: 9, bidder: 2, dateTime: 1 }),
      bid({ auction: 3, price: 9, bidder: 3, dateTime: 9_999 }),
      bid({ auction: 4, price: 1, bidder: 4, dateTime: 10_000 }), // next window: its own max
    ];
    expect(sorted(q7(events))).toEqual(
      sorted([
        { auction: 2, price: 9, bidder: 2, dateTime: 1, extra: "x" },
        { auction: 3, price: 9, bidder: 3, dateTime: 9_999, extra: "x" },
        { auction: 4, price: 1, bidder: 4, dateTime: 10_000, extra: "x" },
      ]),
    );
    expect(Object.keys(q7(events)[0] ?? {})).toEqual(["auction", "price", "bidder", "dateTime", "extra"]);
  });
});

describe("q8", () => {
  it("joins persons and auctions of the same window, distinct per (id, name, window)", () => {
    const events = [
      person({ id: 1, name: "A", dateTime: 100 }),
      auction({ id: 10, seller: 1, dateTime: 200 }),
      auction({ id: 11, seller: 1, dateTime: 9_999 }), // second auction, same window: still one row
      person({ id: 2, name: "B", dateTime: 9_999 }),
      auction({ id: 12, seller: 2, dateTime: 10_000 }), // next window: no match for B
      person({ id: 3, name: "C", dateTime: 10_000 }),
      auction({ id: 13, seller: 3, dateTime: 19_999 }),
      person({ id: 4, name: "D", dateTime: 5 }), // no auction
    ];
    expect(sorted(q8(events))).toEqual(sorted([{ id: 1, name: "A", starttime: 0 }, { id: 3, name: "C", starttime: 10_000 }]));
    expect(Object.keys(q8(events)[0] ?? {})).toEqual(["id", "name", "starttime"]);
  });
});

describe("qhc", () => {
  it("one row per (auction, bidder) pair and tumbling window: highest price, bid count, window end", () => {
    const events = [
      bid({ auction: 1, bidder: 7, price: 5, dateTime: 1 }),
      bid({ auction: 1, bidder: 7, price: 3, dateTime: 2 }), // lower: same row, one more bid
      bid({ auction: 1, bidder: 8, price: 4, dateTime: 3 }), // another pair
      bid({ auction: 2, bidder: 7, price: 6, dateTime: 4 }), // another pair: the bidder, another auction
      bid({ auction: 1, bidder: 7, price: 9, dateTime: 9_999 }), // last ms of the first window
      bid({ auction: 1, bidder: 7, price: 2, dateTime: 10_000 }), // first ms of the next window
      bid({ auction: 1, bidder: 7, price: 2, dateTime: 10_001 }), // equal price: counted
    ];
    expect(sorted(qhc(events))).toEqual(
      sorted([
        { auction: 1, bidder: 7, maxPrice: 9, bids: 3, windowEnd: 10_000 },
        { auction: 1, bidder: 8, maxPrice: 4, bids: 1, windowEnd: 10_000 },
        { auction: 2, bidder: 7, maxPrice: 6, bids: 1, windowEnd: 10_000 },
        { auction: 1, bidder: 7, maxPrice: 2, bids: 2, windowEnd: 20_000 },
      ]),
    );
    expect(Object.keys(qhc(events)[0] ?? {})).toEqual(["auction", "bidder", "maxPrice", "bids", "windowEnd"]);
  });
  it("does not depend on the order of the bids", () => {
    const events = [
      bid({ auction: 1, bidder: 7, price: 5, dateTime: 1 }),
      bid({ auction: 1, bidder: 7, price: 9, dateTime: 2 }),
      bid({ auction: 1, bidder: 7, price: 3, dateTime: 3 }),
    ];
    expect(sorted(qhc([...events].reverse()))).toEqual(sorted(qhc(events)));
  });
});

describe("oracles over generated events", () => {
  const N = 20_000;
  const generate = (firstEventRate: number): Event[] => {
    const config = nexmarkConfig({ firstEventRate });
    return Array.from({ length: N }, (_, i) => generateEvent(config.firstEventId + i, config));
  };

  // At the default 10k events/s, 20k events span 2 s of event time (baseTime is 10 s aligned): a
  // single tumbling window and 5 sliding ones. At 1k/s they span 20 s: 2 tumbling, 14 sliding windows.
  it.each([
    { rate: 10_000, tumbling: 1, sliding: 5 },
    { rate: 1_000, tumbling: 2, sliding: 14 },
  ])("give plausible, non-trivial results at $rate events/s", ({ rate, tumbling, sliding }) => {
    const events = generate(rate);
    const bids = events.filter((e) => e.kind === "bid").length;
    expect(bids).toBe((N / 50) * 46);
    expect(q0(events)).toHaveLength(bids);
    expect(q1(events)).toHaveLength(bids);
    const r2 = q2(events);
    expect(r2.length).toBeGreaterThan(0);
    expect(r2.every((r) => r.auction % 123 === 0)).toBe(true);

    const r3 = q3(events);
    expect(r3.length).toBeGreaterThan(0);
    expect(r3.every((r) => ["OR", "ID", "CA"].includes(r.state))).toBe(true);

    const r4 = q4(events);
    expect([...r4.keys()].sort()).toEqual([10, 11, 12, 13, 14]);
    for (const avg of r4.values()) expect(Number.isInteger(avg) && avg > 0).toBe(true);

    // Every window has at least one row; a row's count is positive.
    const r5 = q5(events);
    expect(r5.length).toBeGreaterThanOrEqual(sliding);
    expect(r5.every((r) => r.num > 0)).toBe(true);
    const r7 = q7(events);
    expect(new Set(r7.map((r) => tumblingStart(r.dateTime))).size).toBe(tumbling);
    const r8 = q8(events);
    expect(r8.length).toBeGreaterThan(0);
    expect(new Set(r8.map((r) => r.starttime)).size).toBe(tumbling);
    expect(new Set(r8.map((r) => JSON.stringify(r))).size).toBe(r8.length);
    // Every bid counted once; many pairs, most with a few bids.
    const rhc = qhc(events);
    expect(rhc.reduce((n, r) => n + r.bids, 0)).toBe(bids);
    expect(rhc.length).toBeGreaterThan(bids / 10);
    expect(new Set(rhc.map((r) => r.windowEnd)).size).toBe(tumbling);
  });
});
