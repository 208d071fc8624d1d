/**
 * Reference ("oracle") implementations of the Nexmark queries (NEXMARK.md), for checking streaming
 * jobs. Each takes the complete bounded input and returns the exact expected output records, in no
 * particular order (callers compare sorted JSON). Plain in-memory loops and maps; deliberately
 * independent of the engine and operators. Record shapes (field names and key order) are part of the
 * contract.
 */
import type { Auction, Bid, Event, Person } from "../../connectors/nexmark/model.ts";

/** Tumbling window size (q7, q8) and sliding window size (q5), ms. */
export const WINDOW_SIZE_MS = 10_000;
/** Sliding window slide (q5), ms. */
export const SLIDE_MS = 2_000;

export const bidsOf = (events: readonly Event[]): Bid[] => {
  const out: Bid[] = [];
  for (const e of events) if (e.kind === "bid") out.push(e.bid);
  return out;
};

export const auctionsOf = (events: readonly Event[]): Auction[] => {
  const out: Auction[] = [];
  for (const e of events) if (e.kind === "auction") out.push(e.auction);
  return out;
};

export const personsOf = (events: readonly Event[]): Person[] => {
  const out: Person[] = [];
  for (const e of events) if (e.kind === "person") out.push(e.person);
  return out;
};

/** Start of the tumbling window of size `size` (aligned at epoch 0) holding `t` (t >= 0): [start, start + size). */
export const tumblingStart = (t: number, size: number = WINDOW_SIZE_MS): number => t - (t % size);

/**
 * Starts of all sliding windows (size `size`, every `slide`, aligned at epoch 0) holding `t` (t >= 0),
 * latest first: s, s - slide, ... while start > t - size, with s = t - (t mod slide). For 10 s / 2 s: 5 windows.
 */
export const slidingStarts = (t: number, size: number = WINDOW_SIZE_MS, slide: number = SLIDE_MS): number[] => {
  const starts: number[] = [];
  for (let start = t - (t % slide); start > t - size; start -= slide) starts.push(start);
  return starts;
};

/** Appends `value` to the list at `key`, creating it. */
const push = <K, V>(map: Map<K, V[]>, key: K, value: V): void => {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
};

// ---- q0, q1, q2: stateless ----

export interface Q0Row {
  auction: number;
  bidder: number;
  price: number;
  dateTime: number;
  extra: string;
}

/** q0 pass-through: every bid → { auction, bidder, price, dateTime, extra }. */
export const q0 = (events: readonly Event[]): Q0Row[] =>
  bidsOf(events).map((b) => ({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra }));

/** q1 currency conversion: as q0 with price = bid.price * 0.908 (plain float multiply). */
export const q1 = (events: readonly Event[]): Q0Row[] =>
  bidsOf(events).map((b) => ({ auction: b.auction, bidder: b.bidder, price: b.price * 0.908, dateTime: b.dateTime, extra: b.extra }));

export interface Q2Row {
  auction: number;
  price: number;
  dateTime: number;
}

/** q2 selection: bids with auction % 123 === 0 → { auction, price, dateTime } (dateTime added for the benchmark). */
export const q2 = (events: readonly Event[]): Q2Row[] =>
  bidsOf(events)
    .filter((b) => b.auction % 123 === 0)
    .map((b) => ({ auction: b.auction, price: b.price, dateTime: b.dateTime }));

// ---- q3: unbounded join ----

export interface Q3Row {
  name: string;
  city: string;
  state: string;
  id: number;
  dateTime: number;
}

export const Q3_STATES: ReadonlySet<string> = new Set(["OR", "ID", "CA"]);
export const Q3_CATEGORY = 10;

/**
 * q3 local item suggestion: auction ⋈ person on auction.seller = person.id, auction.category = 10,
 * person.state in (OR, ID, CA) → { name, city, state, id: auction.id, dateTime: auction.dateTime }
 * (dateTime added for the benchmark). One row per matching (auction, person) pair, independent of
 * arrival order.
 */
export const q3 = (events: readonly Event[]): Q3Row[] => {
  const personsById = new Map<number, Person[]>();
  for (const p of personsOf(events)) if (Q3_STATES.has(p.state)) push(personsById, p.id, p);
  const out: Q3Row[] = [];
  for (const a of auctionsOf(events)) {
    if (a.category !== Q3_CATEGORY) continue;
    for (const p of personsById.get(a.seller) ?? []) out.push({ name: p.name, city: p.city, state: p.state, id: a.id, dateTime: a.dateTime });
  }
  return out;
};

// ---- q4: average winning price per category ----

/**
 * Winning (max) price per auction id, over bids with bid.auction === a.id and
 * a.dateTime <= bid.dateTime <= a.expires (both inclusive). Auctions without such a bid are absent.
 * Keyed by auction id; the value carries the auction's category.
 */
export const q4WinningPrices = (events: readonly Event[]): Map<number, { category: number; price: number }> => {
  const bidsByAuction = new Map<number, Bid[]>();
  for (const b of bidsOf(events)) push(bidsByAuction, b.auction, b);
  const out = new Map<number, { category: number; price: number }>();
  for (const a of auctionsOf(events)) {
    let max: number | undefined;
    for (const b of bidsByAuction.get(a.id) ?? []) {
      if (b.dateTime < a.dateTime || b.dateTime > a.expires) continue;
      if (max === undefined || b.price > max) max = b.price;
    }
    if (max !== undefined) out.set(a.id, { category: a.category, price: max });
  }
  return out;
};

/**
 * q4: category → final average winning price, Math.trunc(sum / count) (Flink SQL AVG over BIGINT
 * is integral). Categories without any winning auction are absent.
 */
export const q4 = (events: readonly Event[]): Map<number, number> => {
  const sums = new Map<number, { sum: number; count: number }>();
  for (const { category, price } of q4WinningPrices(events).values()) {
    const acc = sums.get(category) ?? { sum: 0, count: 0 };
    acc.sum += price;
    acc.count += 1;
    sums.set(category, acc);
  }
  const out = new Map<number, number>();
  for (const [category, { sum, count }] of sums) out.set(category, Math.trunc(sum / count));
  return out;
};

export interface Q4Row {
  category: number;
  avg: number;
}

/** q4 as rows { category, avg }. */
export const q4Rows = (events: readonly Event[]): Q4Row[] => [...q4(events)].map(([category, avg]) => ({ category, avg }));

// ---- q5: hot items (sliding windows) ----

export interface Q5Row {
  auction: number;
  num: number;
  /** The window's end, exclusive (added for the benchmark). */
  end: number;
}

/**
 * q5 hot items: per sliding window (10 s every 2 s) over bid.dateTime, count bids per auction; emit
 * { auction, num, end } for every auction whose count equals the window's maximum (ties: all). One
 * row per qualifying (window, auction).
 */
export const q5 = (events: readonly Event[]): Q5Row[] => {
  const counts = new Map<number, Map<number, number>>(); // window start → auction → count
  for (const b of bidsOf(events)) {
    for (const start of slidingStarts(b.dateTime)) {
      let perAuction = counts.get(start);
      if (perAuction === undefined) counts.set(start, (perAuction = new Map()));
      perAuction.set(b.auction, (perAuction.get(b.auction) ?? 0) + 1);
    }
  }
  const out: Q5Row[] = [];
  for (const [start, perAuction] of counts) {
    const max = Math.max(...perAuction.values());
    for (const [auction, num] of perAuction) if (num === max) out.push({ auction, num, end: start + WINDOW_SIZE_MS });
  }
  return out;
};

// ---- q7: highest bid (tumbling windows) ----

export interface Q7Row {
  auction: number;
  price: number;
  bidder: number;
  dateTime: number;
  extra: string;
}

/**
 * q7 highest bid: per tumbling 10 s window over bid.dateTime, every bid whose price equals the
 * window's max price → { auction, price, bidder, dateTime, extra } (ties: all).
 */
export const q7 = (events: readonly Event[]): Q7Row[] => {
  const byWindow = new Map<number, Bid[]>();
  for (const b of bidsOf(events)) push(byWindow, tumblingStart(b.dateTime), b);
  const out: Q7Row[] = [];
  for (const bids of byWindow.values()) {
    let max = -Infinity;
    for (const b of bids) if (b.price > max) max = b.price;
    for (const b of bids) {
      if (b.price === max) out.push({ auction: b.auction, price: b.price, bidder: b.bidder, dateTime: b.dateTime, extra: b.extra });
    }
  }
  return out;
};

// ---- q8: monitor new users (tumbling window join) ----

export interface Q8Row {
  id: number;
  name: string;
  starttime: number;
}

/**
 * q8 monitor new users: per tumbling 10 s window, persons (by person.dateTime) joined with auctions
 * (by auction.dateTime) of the same window on person.id = auction.seller → { id, name, starttime:
 * window start }, distinct per (id, name, window).
 */
export const q8 = (events: readonly Event[]): Q8Row[] => {
  const sellersByWindow = new Map<number, Set<number>>();
  for (const a of auctionsOf(events)) {
    const start = tumblingStart(a.dateTime);
    let sellers = sellersByWindow.get(start);
    if (sellers === undefined) sellersByWindow.set(start, (sellers = new Set()));
    sellers.add(a.seller);
  }
  const seen = new Set<string>();
  const out: Q8Row[] = [];
  for (const p of personsOf(events)) {
    const starttime = tumblingStart(p.dateTime);
    if (!(sellersByWindow.get(starttime)?.has(p.id) ?? false)) continue;
    const key = JSON.stringify([p.id, p.name, starttime]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ id: p.id, name: p.name, starttime });
  }
  return out;
};

// ---- qhc: highest price and bid count per (auction, bidder) and tumbling window ----

export interface QhcRow {
  auction: number;
  bidder: number;
  maxPrice: number;
  bids: number;
  windowEnd: number;
}

/**
 * qhc: per (auction, bidder) pair and tumbling 10 s window over bid.dateTime holding at least one
 * of the pair's bids → { auction, bidder, maxPrice: the highest price, bids: their number,
 * windowEnd: the window's end (exclusive) }.
 */
export const qhc = (events: readonly Event[]): QhcRow[] => {
  const rows = new Map<string, QhcRow>();
  for (const b of bidsOf(events)) {
    const windowEnd = tumblingStart(b.dateTime) + WINDOW_SIZE_MS;
    const key = JSON.stringify([b.auction, b.bidder, windowEnd]);
    const row = rows.get(key);
    if (row === undefined) rows.set(key, { auction: b.auction, bidder: b.bidder, maxPrice: b.price, bids: 1, windowEnd });
    else {
      row.maxPrice = Math.max(row.maxPrice, b.price);
      row.bids += 1;
    }
  }
  return [...rows.values()];
};
