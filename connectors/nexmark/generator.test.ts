import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AUCTION_JSON_OVERHEAD,
  BID_JSON_OVERHEAD,
  HOT_URLS,
  PERSON_JSON_OVERHEAD,
  channelUrl,
  defaultNexmarkConfig,
  eventTimestamp,
  extra,
  generateEvent,
  lastAuction,
  lastPerson,
  nexmarkConfig,
  price,
  str,
} from "./generator.ts";
import type { Auction, Bid, Event, Person } from "./model.ts";
import { SplitMix64 } from "./splitmix64.ts";

const config = defaultNexmarkConfig;
const range = (from: number, to: number, c = config): Event[] => {
  const out: Event[] = [];
  for (let e = from; e < to; e++) out.push(generateEvent(e, c));
  return out;
};
const first5000 = range(0, 5000);

describe("generateEvent: shape of the stream", () => {
  it("follows the modulo rule: 1 person, 3 auctions, 46 bids per 50 ids (100 : 300 : 4600 in 5,000)", () => {
    first5000.forEach((event, e) => {
      const m = e % 50;
      expect(event.kind).toBe(m === 0 ? "person" : m <= 3 ? "auction" : "bid");
    });
    const count = (k: Event["kind"]) => first5000.filter((x) => x.kind === k).length;
    expect([count("person"), count("auction"), count("bid")]).toEqual([100, 300, 4600]);
    // Also for a window not aligned on the period.
    const shifted = range(12_345, 17_345);
    expect(shifted.filter((x) => x.kind === "person").length).toBe(100);
    expect(shifted.filter((x) => x.kind === "auction").length).toBe(300);
  });

  it("gives dense person and auction ids from 1000 in creation order", () => {
    const persons = first5000.flatMap((x) => (x.kind === "person" ? [x.person.id] : []));
    const auctions = first5000.flatMap((x) => (x.kind === "auction" ? [x.auction.id] : []));
    expect(persons).toEqual(Array.from({ length: 100 }, (_, i) => 1000 + i));
    expect(auctions).toEqual(Array.from({ length: 300 }, (_, i) => 1000 + i));
  });

  it("lastPerson / lastAuction follow the spec on examples", () => {
    expect([0, 1, 49, 50, 99, 100].map(lastPerson)).toEqual([0, 0, 0, 1, 1, 2]);
    // ids 0..3 → person, auctions 0,1,2; bids of epoch 0 see auction 2; id 50 (person) still sees 2.
    expect([0, 1, 2, 3, 4, 49, 50, 51, 53, 54].map(lastAuction)).toEqual([-1, 0, 1, 2, 2, 2, 2, 3, 5, 5]);
  });

  it("bids and auctions reference existing persons/auctions, or at most the id lead ahead, within the active window", () => {
    const events = range(0, 60_000);
    let maxPerson = -1;
    let maxAuction = -1;
    let hotAuctions = 0;
    let bids = 0;
    events.forEach((event, e) => {
      const lp = lastPerson(e);
      const la = lastAuction(e);
      if (event.kind === "person") maxPerson = event.person.id;
      else if (event.kind === "auction") {
        maxAuction = event.auction.id;
        const s = event.auction.seller - 1000;
        expect(s).toBeGreaterThanOrEqual(Math.max(0, lp + 1 - 1000));
        expect(event.auction.seller).toBeLessThanOrEqual(maxPerson + 10);
        expect(event.auction.category).toBeGreaterThanOrEqual(10);
        expect(event.auction.category).toBeLessThan(15);
        expect(event.auction.expires).toBeGreaterThan(event.auction.dateTime);
        expect(event.auction.reserve).toBeGreaterThanOrEqual(event.auction.initialBid);
      } else {
        bids++;
        const a = event.bid.auction - 1000;
        const b = event.bid.bidder - 1000;
        expect(event.bid.auction).toBeLessThanOrEqual(maxAuction + 10);
        expect(a).toBeGreaterThanOrEqual(Math.max(la - 100, 0));
        expect(a).toBeLessThanOrEqual(la + 10);
        expect(event.bid.bidder).toBeLessThanOrEqual(maxPerson + 10);
        expect(b).toBeGreaterThanOrEqual(Math.max(0, lp + 1 - 1000));
        if (a === Math.floor(la / 100) * 100) hotAuctions++;
      }
    });
    // Half the bids go to the hot auction (plus the random ones that hit it).
    expect(hotAuctions / bids).toBeGreaterThan(0.45);
    expect(hotAuctions / bids).toBeLessThan(0.6);
  });

  it("timestamps are non-decreasing and equal baseTime + floor(n * interEventDelayUs / 1000)", () => {
    let previous = -Infinity;
    first5000.forEach((event, n) => {
      const t = event.kind === "person" ? event.person.dateTime : event.kind === "auction" ? event.auction.dateTime : event.bid.dateTime;
      expect(t).toBeGreaterThanOrEqual(previous);
      expect(t).toBe(Date.UTC(2015, 6, 15) + Math.floor(n / 10)); // 100 µs per event
      previous = t;
    });
    const c = nexmarkConfig({ firstEventRate: 3000, numEventGenerators: 2, baseTime: 0, firstEventId: 7 });
    // 666.67 µs per event: n = 3 is exactly 2 ms (no float artefact).
    expect([0, 1, 2, 3, 4, 299, 300].map((n) => eventTimestamp(n, c))).toEqual([0, 0, 1, 2, 2, 199, 200]);
    expect((generateEvent(7 + 3, c) as { kind: "bid"; bid: Bid }).bid.dateTime).toBe(2);
  });

  it("auction expiry is ts + 1 + rand(2h), h = the time 1666 events ahead", () => {
    for (const event of first5000) {
      if (event.kind !== "auction") continue;
      const { dateTime, expires } = event.auction;
      expect(expires - dateTime).toBeGreaterThanOrEqual(1);
      expect(expires - dateTime).toBeLessThanOrEqual(2 * 167);
    }
  });

  it("bids carry Flink's channel and url", () => {
    const bids = first5000.flatMap((x) => (x.kind === "bid" ? [x.bid] : []));
    const hot = bids.filter((b) => ["Google", "Facebook", "Baidu", "Apple"].includes(b.channel));
    expect(hot.length / bids.length).toBeGreaterThan(0.45);
    expect(hot.length / bids.length).toBeLessThan(0.55);
    for (const b of bids) {
      expect(b.url).toMatch(/^https:\/\/www\.nexmark\.com\/[a-z_]{1,4}\/[a-z_]{1,4}\/[a-z_]{1,4}\/item\.htm\?query=1(&channel_id=\d+)?$/);
      if (!hot.includes(b)) {
        expect(b.channel).toMatch(/^channel-\d{1,4}$/);
        expect(b.url).toBe(channelUrl(Number(b.channel.slice(8))));
      }
    }
    expect(new Set(HOT_URLS).size).toBe(4);
    expect(channelUrl(1)).toMatch(/&channel_id=2147483648$/); // |Integer.reverse(1)| as a long
    expect(channelUrl(6)).toBe("https://www.nexmark.com/yfs/ogpv/ngla/item.htm?query=1&channel_id=1610612736");
  });
});

describe("generateEvent: determinism", () => {
  it("depends on (seed, event id) alone, whatever order events are generated in", () => {
    const c = nexmarkConfig({ seed: 99 });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 20 }), (ids) => {
        const forward = ids.map((e) => generateEvent(e, c));
        const backward = [...ids].reverse().map((e) => generateEvent(e, nexmarkConfig({ seed: 99 })));
        expect(forward).toEqual(backward.reverse());
      }),
    );
  });

  it("distinct seeds give different events", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (s1, s2) => {
        fc.pre(s1 !== s2);
        const a = range(0, 60, nexmarkConfig({ seed: s1 }));
        const b = range(0, 60, nexmarkConfig({ seed: s2 }));
        expect(JSON.stringify(a)).not.toBe(JSON.stringify(b));
      }),
      { numRuns: 50 },
    );
    // Same id structure (ids, times) but different random content.
    const a = generateEvent(10, nexmarkConfig({ seed: 1 }));
    const b = generateEvent(10, nexmarkConfig({ seed: 2 }));
    expect(a.kind).toBe(b.kind);
    expect(a).not.toEqual(b);
  });
});

describe("golden values (seed 0) for a Java twin to check against", () => {
  it("pins events 0, 1 and 4", () => {
    const [p, a] = [generateEvent(0), generateEvent(1)];
    const b = generateEvent(4);
    expect(p).toMatchObject({ kind: "person", person: { id: 1000, name: "Julie Smith", emailAddress: "uujk@oju.com", creditCard: "8388 0817 9795 5831", city: "Redmond", state: "WA", dateTime: 1436918400000 } });
    expect(p.kind === "person" && p.person.extra).toBe("ucklglggkwuxjbbumrsyhhaghwasepcmmtdxs");
    expect(a).toMatchObject({ kind: "auction", auction: { id: 1000, itemName: "qepdtz", initialBid: 187, reserve: 257606, expires: 1436918400259, seller: 1000, category: 14 } });
    expect(a.kind === "auction" && a.auction.extra.length).toBe(280);
    expect(b).toEqual({ kind: "bid", bid: { auction: 1000, bidder: 1001, price: 5410514, channel: "Apple", url: "https://www.nexmark.com/zphn/wfe/ivg/item.htm?query=1", dateTime: 1436918400000, extra: "enwalvsayjrewykrraxwq" } });
    expect(HOT_URLS).toEqual([
      "https://www.nexmark.com/q_l/_vd/ptda/item.htm?query=1",
      "https://www.nexmark.com/vfy/lkhk/cvj/item.htm?query=1",
      "https://www.nexmark.com/f_x/jycd/awf/item.htm?query=1",
      "https://www.nexmark.com/zphn/wfe/ivg/item.htm?query=1",
    ]);
  });
});

describe("helpers", () => {
  it("price() is round(10^(6U) * 100), between 1 and 100,000,000 cents", () => {
    const a = new SplitMix64(5);
    const b = new SplitMix64(5);
    for (let i = 0; i < 1000; i++) {
      const p = price(a);
      expect(p).toBe(Math.round(Math.pow(10, b.nextDouble() * 6) * 100));
      expect(p).toBeGreaterThanOrEqual(100);
      expect(p).toBeLessThanOrEqual(100_000_000);
    }
  });

  it("str(max) has trimmed length in [1, max - 1], lowercase letters and inner spaces", () => {
    const r = new SplitMix64(11);
    for (let i = 0; i < 2000; i++) {
      const s = str(r, 20);
      expect(s.length).toBeLessThanOrEqual(19);
      expect(s).toMatch(/^([a-z]([a-z ]*[a-z])?)?$/);
    }
  });

  it("extra(cur, avg) is empty past avg and has length in [d - δ, d + δ) otherwise", () => {
    const r = new SplitMix64(3);
    expect(extra(r, 201, 200)).toBe("");
    for (let i = 0; i < 500; i++) {
      const cur = r.nextInt(200);
      const d = 200 - cur;
      const delta = Math.round(0.2 * d);
      const x = extra(r, cur, 200);
      expect(x).toMatch(/^[a-z]*$/);
      expect(x.length).toBeGreaterThanOrEqual(d - delta);
      expect(x.length).toBeLessThanOrEqual(delta === 0 ? d : d + delta - 1);
    }
  });
});

describe("record sizes", () => {
  // The first 2,000 of each kind, by the modulo rule.
  const at = (ids: (i: number) => number) => Array.from({ length: 2000 }, (_, i) => generateEvent(ids(i)));
  const persons = at((i) => 50 * i).flatMap((x) => (x.kind === "person" ? [x.person] : []));
  const auctions = at((i) => 50 * Math.floor(i / 3) + 1 + (i % 3)).flatMap((x) => (x.kind === "auction" ? [x.auction] : []));
  const bids = at((i) => 50 * Math.floor(i / 46) + 4 + (i % 46)).flatMap((x) => (x.kind === "bid" ? [x.bid] : []));
  const bidSized = (b: Bid) => ({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra });
  const avg = (xs: readonly unknown[]) => xs.reduce<number>((s, x) => s + JSON.stringify(x).length, 0) / xs.length;

  it("has 2,000 samples of each kind", () => {
    expect([persons.length, auctions.length, bids.length]).toEqual([2000, 2000, 2000]);
  });

  it("sizes extra by the exact JSON length of the rest of the record", () => {
    const digits = (n: number) => String(n).length;
    for (const p of persons.slice(0, 200)) {
      const base = JSON.stringify({ ...p, extra: "" }).length;
      expect(base).toBe(PERSON_JSON_OVERHEAD + digits(p.id) + p.name.length + p.emailAddress.length + p.creditCard.length + p.city.length + p.state.length + digits(p.dateTime));
    }
    for (const a of auctions.slice(0, 200)) {
      const base = JSON.stringify({ ...a, extra: "" }).length;
      const numbers = [a.id, a.initialBid, a.reserve, a.dateTime, a.expires, a.seller, a.category];
      expect(base).toBe(AUCTION_JSON_OVERHEAD + a.itemName.length + a.description.length + numbers.reduce((s, n) => s + digits(n), 0));
    }
    for (const b of bids.slice(0, 200)) {
      expect(JSON.stringify({ ...bidSized(b), extra: "" }).length).toBe(BID_JSON_OVERHEAD + digits(b.auction) + digits(b.bidder) + digits(b.price) + digits(b.dateTime));
    }
  });

  it("averages within ±30% of 200 / 500 / 100 bytes of JSON (bids counted without channel and url, as Flink sizes them)", () => {
    const p = avg(persons satisfies Person[]);
    const a = avg(auctions satisfies Auction[]);
    const b = avg(bids.map(bidSized));
    expect(p).toBeGreaterThan(140);
    expect(p).toBeLessThan(260);
    expect(a).toBeGreaterThan(350);
    expect(a).toBeLessThan(650);
    expect(b).toBeGreaterThan(70);
    expect(b).toBeLessThan(130);
    // The whole bid, with channel and url, is larger; pinned loosely so a change is noticed.
    const full = avg(bids);
    expect(full).toBeGreaterThan(130);
    expect(full).toBeLessThan(260);
  });
});
