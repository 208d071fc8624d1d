import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { channelUrl, digits, generateEvent, nexmarkConfig, type NexmarkConfig } from "./generator.ts";

/** sha256 over the JSON of events from..from+count-1, concatenated. */
const streamHash = (config: NexmarkConfig, from: number, count: number): string => {
  const h = createHash("sha256");
  for (let e = from; e < from + count; e++) h.update(JSON.stringify(generateEvent(e, config)));
  return h.digest("hex");
};

describe("generateEvent: whole streams pinned (hashes taken before the generator's speed-ups, at 9619da2)", () => {
  it("seed 0, events 0..19,999", () => {
    expect(streamHash(nexmarkConfig({ seed: 0 }), 0, 20_000)).toBe("548a125d74ae007366dc916634bb384ad90ca503d8b968c51d8253ea2e4cc645");
  });

  it("a 64-bit seed, a first event id, other record sizes and only non-hot channels", () => {
    const config = nexmarkConfig({
      seed: 0x123456789abcdef0n,
      firstEventId: 12_345,
      avgBidByteSize: 300,
      avgPersonByteSize: 1000,
      avgAuctionByteSize: 40,
      hotChannelsRatio: 1,
    });
    expect(streamHash(config, 12_345, 20_000)).toBe("f4e1cf344247a26c723d02db2d88ce124c8f386e219bd881cbb705f7574e03d1");
  });

  it("seed -1 at event ids from 2^52", () => {
    expect(streamHash(nexmarkConfig({ seed: -1 }), 2 ** 52, 5000)).toBe("43d767c242dc3fd432323b6d83c9316f6000893bee92073fb2c1e22761fdf888");
  });
});

describe("helpers' fast paths", () => {
  it("digits(n) = String(n).length for safe integers (sign included, -0 as 0)", () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        expect(digits(n)).toBe(String(n).length);
      }),
      { numRuns: 2000 },
    );
    for (let k = 0; k <= 15; k++) {
      for (const n of [10 ** k - 1, 10 ** k, 10 ** k + 1, -(10 ** k)]) expect(digits(n)).toBe(String(n).length);
    }
    expect([digits(0), digits(-0), digits(Number.MAX_SAFE_INTEGER), digits(Number.MIN_SAFE_INTEGER)]).toEqual([1, 1, 16, 17]);
  });

  it("channelUrl is stable for channels outside 0..9999 too (cached by key)", () => {
    for (const c of [-1, 10_000, 123_456]) {
      const url = channelUrl(c);
      expect(url).toMatch(/^https:\/\/www\.nexmark\.com\/[a-z_]{1,4}\/[a-z_]{1,4}\/[a-z_]{1,4}\/item\.htm\?query=1(&channel_id=\d+)?$/);
      expect(channelUrl(c)).toBe(url);
    }
  });
});
