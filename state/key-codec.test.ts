import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Packr } from "msgpackr";
import { decodeCellKey, encodeCellKey } from "./key-codec.ts";

// The key layout's reference: the packr options key-codec.ts packs keys with.
const reference = new Packr({ useRecords: false, variableMapSize: true });
const layout = (keyGroup: number, stateId: number, key: unknown) => {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(keyGroup, 0);
  head.writeUInt16BE(stateId, 2);
  return Buffer.concat([head, reference.pack(key)]);
};

describe("encodeCellKey", () => {
  it("property: gives msgpack's bytes for every key (integer keys take a fast path), and decodes back", () => {
    const edges = [0, -0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 0x100000000, -1, -32, -33, 1.5, Number.MAX_SAFE_INTEGER];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 127 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.oneof(fc.constantFrom(...edges), fc.integer({ min: 0, max: 0xffffffff }), fc.integer(), fc.double({ noNaN: true }), fc.string(), fc.tuple(fc.string(), fc.integer())),
        (keyGroup, stateId, key) => {
          const bytes = encodeCellKey(keyGroup, stateId, key);
          expect(bytes).toEqual(layout(keyGroup, stateId, key));
          // msgpack writes -0 as 0 (so does the fast path): the same key bytes, as before.
          expect(decodeCellKey(bytes)).toEqual({ keyGroup, stateId, key: Object.is(key, -0) ? 0 : key });
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
