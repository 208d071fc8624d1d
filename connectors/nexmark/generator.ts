/**
 * The Nexmark event generator as pure functions (NEXMARK.md; Beam's and Flink's
 * `NexmarkGenerator`, `{Person,Auction,Bid}Generator`). `generateEvent(eventId, config)` depends
 * on (config, eventId) only: every event draws from its own SplitMix64 stream
 * `eventRandom(seed, eventId)`, so any split can regenerate any event.
 *
 * A Java twin reproduces events exactly by making the same draws in the same order (listed at each
 * generator below) with the PRNG of splitmix64.ts, and the same sizing rule for `extra`:
 * `cur` = the JSON length of the record (fields in model.ts order, `extra: ""`) — for bids without
 * the `channel` and `url` fields, which Flink's sizing ignores too. All strings are ASCII that JSON
 * does not escape, so `cur` = fixed overhead + string lengths + decimal lengths of the numbers.
 * `price()` uses `Math.pow` (V8: fdlibm's pow). JDK 17's `StrictMath.pow` differs from it in the last bit for
 * about 4.5% of inputs, so the Java twin (bench/flink) carries a transcription of fdlibm's pow.
 */
import { userError } from "../../common/errors.ts";
import type { Auction, Bid, Event, Person } from "./model.ts";
import { SplitMix64, eventRandom, toHalves, type Halves } from "./splitmix64.ts";

export interface NexmarkConfig {
  /** 64-bit seed (a number is taken as a safe integer, two's complement). */
  readonly seed: bigint | number;
  /** Event id of generator count 0 (`eventId = firstEventId + n`). */
  readonly firstEventId: number;
  /** Events per second of event time (all generators together). */
  readonly firstEventRate: number;
  readonly numEventGenerators: number;
  /** Event time of event 0, ms. Default 2015-07-15T00:00:00Z (Beam's BASE_TIME). */
  readonly baseTime: number;
  readonly firstPersonId: number;
  readonly firstAuctionId: number;
  readonly firstCategoryId: number;
  readonly numCategories: number;
  readonly numActivePeople: number;
  readonly numInFlightAuctions: number;
  readonly personIdLead: number;
  readonly auctionIdLead: number;
  /** A bid is for a hot auction with p = 1 - 1/ratio, and so on. */
  readonly hotAuctionRatio: number;
  readonly hotSellersRatio: number;
  readonly hotBiddersRatio: number;
  readonly hotChannelsRatio: number;
  readonly avgPersonByteSize: number;
  readonly avgAuctionByteSize: number;
  readonly avgBidByteSize: number;
}

export const defaultNexmarkConfig: NexmarkConfig = Object.freeze({
  seed: 0,
  firstEventId: 0,
  firstEventRate: 10_000,
  numEventGenerators: 1,
  baseTime: Date.UTC(2015, 6, 15),
  firstPersonId: 1000,
  firstAuctionId: 1000,
  firstCategoryId: 10,
  numCategories: 5,
  numActivePeople: 1000,
  numInFlightAuctions: 100,
  personIdLead: 10,
  auctionIdLead: 10,
  hotAuctionRatio: 2,
  hotSellersRatio: 4,
  hotBiddersRatio: 4,
  hotChannelsRatio: 2,
  avgPersonByteSize: 200,
  avgAuctionByteSize: 500,
  avgBidByteSize: 100,
});

/** Proportions person : auction : bid = 1 : 3 : 46 over a period of 50 event ids. */
export const PERSON_PROPORTION = 1;
export const AUCTION_PROPORTION = 3;
export const PROPORTION_DENOMINATOR = 50;
/** Hot sellers/bidders/auctions are the first of each batch of this many. */
export const HOT_BATCH = 100;
export const CHANNELS_NUMBER = 10_000;

/** Defaults overridden by `overrides`; throws a user error on an invalid value. */
export const nexmarkConfig = (overrides: Partial<NexmarkConfig> = {}): NexmarkConfig => {
  const config: NexmarkConfig = Object.freeze({ ...defaultNexmarkConfig, ...overrides });
  toHalves(config.seed); // validates
  for (const [key, value] of Object.entries(config)) {
    if (key === "seed") continue;
    const v = value as number;
    const ok = key === "firstEventRate" ? v > 0 && Number.isFinite(v) : Number.isSafeInteger(v);
    if (!ok) throw userError("BAD_SOURCE_OPTIONS", `nexmark: config.${key} must be ${key === "firstEventRate" ? "a positive number" : "an integer"}, got ${v}`);
  }
  const positive = ["numEventGenerators", "numCategories", "numActivePeople", "hotAuctionRatio", "hotSellersRatio", "hotBiddersRatio", "hotChannelsRatio"] as const;
  for (const key of positive) {
    if (config[key] < 1) throw userError("BAD_SOURCE_OPTIONS", `nexmark: config.${key} must be >= 1, got ${config[key]}`);
  }
  return config;
};

/**
 * Event time of generator count `n`: `baseTime + floor(n * interEventDelayUs / 1000)` with
 * `interEventDelayUs = 1e6 / firstEventRate * numEventGenerators`, computed as the equal but exact
 * `floor(n * numEventGenerators * 1000 / firstEventRate)` (Java: `n * gens * 1000L / rate` for an
 * integral rate).
 */
export const eventTimestamp = (n: number, config: NexmarkConfig): number =>
  config.baseTime + Math.floor((n * config.numEventGenerators * 1000) / config.firstEventRate);

/** Base-0 id of the last person created at or before event id `e`. */
export const lastPerson = (e: number): number => Math.floor(e / PROPORTION_DENOMINATOR);

/** Base-0 id of the last auction created at or before event id `e` (-1 before the first). */
export const lastAuction = (e: number): number => {
  let epoch = Math.floor(e / PROPORTION_DENOMINATOR);
  let offset = e % PROPORTION_DENOMINATOR;
  if (offset < PERSON_PROPORTION) {
    epoch -= 1;
    offset = AUCTION_PROPORTION - 1;
  } else if (offset >= PERSON_PROPORTION + AUCTION_PROPORTION) {
    offset = AUCTION_PROPORTION - 1;
  } else {
    offset -= PERSON_PROPORTION;
  }
  return epoch * AUCTION_PROPORTION + offset;
};

/** A random active person (base 0), possibly up to `personIdLead` ahead of the last. One draw. */
export const randPerson = (e: number, r: SplitMix64, config: NexmarkConfig): number => {
  const numPeople = lastPerson(e) + 1;
  const active = Math.min(numPeople, config.numActivePeople);
  return numPeople - active + r.nextInt(active + config.personIdLead);
};

/** A random in-flight auction (base 0), possibly up to `auctionIdLead` ahead. One draw. */
export const randAuction = (e: number, r: SplitMix64, config: NexmarkConfig): number => {
  const max = lastAuction(e);
  const min = Math.max(max - config.numInFlightAuctions, 0);
  return min + r.nextInt(max - min + 1 + config.auctionIdLead);
};

/** `round(10^(U*6) * 100)` cents. One draw. */
export const price = (r: SplitMix64): number => Math.round(Math.pow(10, r.nextDouble() * 6) * 100);

/**
 * Length 3 + rand(max - 3); per char: rand(13) == 0 → `special` (1 draw) else a–z (2 draws); trimmed.
 * `special` is one latin1 character (its first char code is used).
 */
export const str = (r: SplitMix64, max: number, special = " "): string =>
  r.lettersOrSpecial(3 + r.nextInt(max - 3), special.charCodeAt(0)).trim();

/** `length` letters a–z, one draw each. */
export const exactStr = (r: SplitMix64, length: number): string => r.letters(length);

/** Padding so the record averages `avg` bytes: "" if cur > avg, else d - δ + rand(2δ) letters (no draw if δ = 0). */
export const extra = (r: SplitMix64, cur: number, avg: number): string => {
  if (cur > avg) return "";
  const d = avg - cur;
  const delta = Math.round(0.2 * d);
  return exactStr(r, d - delta + (delta === 0 ? 0 : r.nextInt(2 * delta)));
};

const FIRST_NAMES = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"];
const LAST_NAMES = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"];
const CITIES = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"];
const STATES = ["AZ", "CA", "ID", "OR", "WA", "WY"];
const HOT_CHANNELS = ["Google", "Facebook", "Baidu", "Apple"];

const pick = (r: SplitMix64, values: readonly string[]): string => values[r.nextInt(values.length)] as string;
/**
 * `String(n).length` for an integer n with |n| < 10^21 (all the generator's numbers are safe
 * integers), by comparisons instead of a conversion: the decimal digits, plus one for a minus sign
 * (-0 counts as "0").
 */
export const digits = (n: number): number => {
  if (n < 0) return 1 + digits(-n);
  let d = 1;
  for (let p = 10; n >= p; p *= 10) d++;
  return d;
};

/** JSON length of each record with `extra: ""` minus its string contents and number digits. */
export const PERSON_JSON_OVERHEAD = 95;
export const AUCTION_JSON_OVERHEAD = 119;
/** For a bid without `channel` and `url`. */
export const BID_JSON_OVERHEAD = 54;

/** Draws: first name, last name, str(7), str(5), 4 × rand(10000), city, state, extra. */
const person = (e: number, ts: number, r: SplitMix64, config: NexmarkConfig): Person => {
  const id = lastPerson(e) + config.firstPersonId;
  const name = `${pick(r, FIRST_NAMES)} ${pick(r, LAST_NAMES)}`;
  const emailAddress = `${str(r, 7)}@${str(r, 5)}.com`;
  const groups: string[] = [];
  for (let i = 0; i < 4; i++) groups.push(String(r.nextInt(10_000)).padStart(4, "0"));
  const creditCard = groups.join(" ");
  const city = pick(r, CITIES);
  const state = pick(r, STATES);
  const cur =
    PERSON_JSON_OVERHEAD + digits(id) + name.length + emailAddress.length + creditCard.length + city.length + state.length + digits(ts);
  return { id, name, emailAddress, creditCard, city, state, dateTime: ts, extra: extra(r, cur, config.avgPersonByteSize) };
};

/**
 * Draws (Flink's order): rand(hotSellersRatio) [> 0: hot seller, else randPerson], rand(numCategories),
 * price (initialBid), rand(max(2h, 1)) (expires), str(20), str(100), price (reserve - initialBid), extra.
 */
const auction = (e: number, n: number, ts: number, r: SplitMix64, config: NexmarkConfig): Auction => {
  const id = lastAuction(e) + config.firstAuctionId;
  const seller =
    (r.nextInt(config.hotSellersRatio) > 0 ? Math.floor(lastPerson(e) / HOT_BATCH) * HOT_BATCH : randPerson(e, r, config)) +
    config.firstPersonId;
  const category = config.firstCategoryId + r.nextInt(config.numCategories);
  const initialBid = price(r);
  const horizon =
    eventTimestamp(n + Math.floor((config.numInFlightAuctions * PROPORTION_DENOMINATOR) / AUCTION_PROPORTION), config) - ts;
  const expires = ts + 1 + r.nextInt(Math.max(2 * horizon, 1));
  const itemName = str(r, 20);
  const description = str(r, 100);
  const reserve = initialBid + price(r);
  const cur =
    AUCTION_JSON_OVERHEAD + digits(id) + itemName.length + description.length + digits(initialBid) + digits(reserve) +
    digits(ts) + digits(expires) + digits(seller) + digits(category);
  const ext = extra(r, cur, config.avgAuctionByteSize);
  return { id, itemName, description, initialBid, reserve, dateTime: ts, expires, seller, category, extra: ext };
};

/** Flink-style URL: https://www.nexmark.com/ + 3 × (str(5, '_') + "/") + "item.htm?query=1". */
const baseUrl = (r: SplitMix64): string =>
  `https://www.nexmark.com/${str(r, 5, "_")}/${str(r, 5, "_")}/${str(r, 5, "_")}/item.htm?query=1`;

/**
 * Channel URLs are fixed, independent of the seed (Flink draws them from an unseeded Random; we
 * make them deterministic): channel c uses stream `eventRandom(CHANNEL_SEED, c)`: baseUrl, then if
 * rand(10) > 0 appends `&channel_id=` + |Integer.reverse(c)| (Java: `Math.abs((long) Integer.reverse(c))`).
 * Hot channel i uses `baseUrl(eventRandom(CHANNEL_SEED, CHANNELS_NUMBER + i))`.
 */
export const CHANNEL_SEED = 0x4e45584d41524b21n; // "NEXMARK!"
const channelSeed: Halves = toHalves(CHANNEL_SEED);

const reverse32 = (x: number): number => {
  let v = x >>> 0;
  let out = 0;
  for (let i = 0; i < 32; i++) {
    out = (out << 1) | (v & 1);
    v >>>= 1;
  }
  return out | 0;
};

export const HOT_URLS: readonly string[] = HOT_CHANNELS.map((_, i) => baseUrl(eventRandom(channelSeed, CHANNELS_NUMBER + i)));

/** Built on first use: by index for the channels a bid draws (0 <= c < CHANNELS_NUMBER), else by key. */
const channelUrls = new Array<string | undefined>(CHANNELS_NUMBER).fill(undefined);
const otherChannelUrls = new Map<number, string>();
const makeChannelUrl = (c: number): string => {
  const r = eventRandom(channelSeed, c);
  const url = baseUrl(r);
  return r.nextInt(10) > 0 ? `${url}&channel_id=${Math.abs(reverse32(c))}` : url;
};
export const channelUrl = (c: number): string => {
  const drawn = Number.isInteger(c) && c >= 0 && c < CHANNELS_NUMBER;
  let url = drawn ? channelUrls[c] : otherChannelUrls.get(c);
  if (url === undefined) {
    url = makeChannelUrl(c);
    if (drawn) channelUrls[c] = url;
    else otherChannelUrls.set(c, url);
  }
  return url;
};

/** `channel-${c}` for 0 <= c < CHANNELS_NUMBER, built on first use. */
const channelNames = new Array<string | undefined>(CHANNELS_NUMBER).fill(undefined);
const channelName = (c: number): string => (channelNames[c] ??= `channel-${c}`);

/**
 * Draws: rand(hotAuctionRatio) [> 0: hot auction, else randAuction], rand(hotBiddersRatio) [> 0: hot
 * bidder, else randPerson], price, rand(hotChannelsRatio) [> 0: rand(4) hot channel, else
 * rand(10000)], extra.
 */
const bid = (e: number, ts: number, r: SplitMix64, config: NexmarkConfig): Bid => {
  const auctionId =
    (r.nextInt(config.hotAuctionRatio) > 0 ? Math.floor(lastAuction(e) / HOT_BATCH) * HOT_BATCH : randAuction(e, r, config)) +
    config.firstAuctionId;
  const bidder =
    (r.nextInt(config.hotBiddersRatio) > 0 ? Math.floor(lastPerson(e) / HOT_BATCH) * HOT_BATCH + 1 : randPerson(e, r, config)) +
    config.firstPersonId;
  const p = price(r);
  let channel: string;
  let url: string;
  if (r.nextInt(config.hotChannelsRatio) > 0) {
    const i = r.nextInt(HOT_CHANNELS.length);
    channel = HOT_CHANNELS[i] as string;
    url = HOT_URLS[i] as string;
  } else {
    const c = r.nextInt(CHANNELS_NUMBER);
    channel = channelName(c);
    url = channelUrl(c);
  }
  const cur = BID_JSON_OVERHEAD + digits(auctionId) + digits(bidder) + digits(p) + digits(ts);
  return { auction: auctionId, bidder, price: p, channel, url, dateTime: ts, extra: extra(r, cur, config.avgBidByteSize) };
};

const seedCache = new WeakMap<NexmarkConfig, Halves>();
// The last config asked for, which is almost always the next one too.
let lastConfig: NexmarkConfig | undefined;
let lastSeed: Halves = { hi: 0, lo: 0 };
const seedOf = (config: NexmarkConfig): Halves => {
  if (config === lastConfig) return lastSeed;
  let h = seedCache.get(config);
  if (h === undefined) {
    h = toHalves(config.seed);
    seedCache.set(config, h);
  }
  lastConfig = config;
  lastSeed = h;
  return h;
};

/**
 * The one stream every `generateEvent` call draws from, moved to the event's start
 * (`eventRandom(seed, eventId)`) first: no generator object per event. Safe because an event is
 * generated synchronously and no callee keeps it (channel URLs use streams of their own).
 */
const eventStream = new SplitMix64({ hi: 0, lo: 0 });

/** The event with id `eventId` (>= config.firstEventId): kind by `eventId % 50`, time by `eventId - firstEventId`. */
export const generateEvent = (eventId: number, config: NexmarkConfig = defaultNexmarkConfig): Event => {
  const n = eventId - config.firstEventId;
  const ts = eventTimestamp(n, config);
  const r = eventStream.toEvent(seedOf(config), eventId);
  const rem = eventId % PROPORTION_DENOMINATOR;
  if (rem < PERSON_PROPORTION) return { kind: "person", person: person(eventId, ts, r, config) };
  if (rem < PERSON_PROPORTION + AUCTION_PROPORTION) return { kind: "auction", auction: auction(eventId, n, ts, r, config) };
  return { kind: "bid", bid: bid(eventId, ts, r, config) };
};
