/**
 * Byte layout of a keyed-state cell in the KvBackend:
 * `[keyGroup u16 BE][stateId u16 BE][msgpack(key)]`.
 * Key group first, so one key-group range is one contiguous byte range.
 */
import { Packr } from "msgpackr";
import type { KeyValue } from "./key-groups.ts";

// Records off: the same key must always encode to the same bytes.
const keyPackr = new Packr({ useRecords: false, variableMapSize: true });

export const encodeCellKey = (keyGroup: number, stateId: number, key: KeyValue): Buffer => {
  // Fast path (the hot case: account ids, auction ids): a uint32 key, written as msgpack writes
  // it (positive fixint, uint8, uint16 or uint32), without packing and copying.
  if (typeof key === "number" && key >= 0 && key <= 0xffffffff && Number.isInteger(key)) {
    if (key < 0x80) {
      const out = Buffer.allocUnsafe(5);
      out.writeUInt16BE(keyGroup, 0);
      out.writeUInt16BE(stateId, 2);
      out[4] = key;
      return out;
    }
    const width = key < 0x100 ? 1 : key < 0x10000 ? 2 : 4;
    const out = Buffer.allocUnsafe(5 + width);
    out.writeUInt16BE(keyGroup, 0);
    out.writeUInt16BE(stateId, 2);
    out[4] = width === 1 ? 0xcc : width === 2 ? 0xcd : 0xce;
    out.writeUIntBE(key, 5, width);
    return out;
  }
  const body = keyPackr.pack(key);
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt16BE(keyGroup, 0);
  out.writeUInt16BE(stateId, 2);
  body.copy(out, 4);
  return out;
};

export const decodeCellKey = (bytes: Buffer): { keyGroup: number; stateId: number; key: KeyValue } => ({
  keyGroup: bytes.readUInt16BE(0),
  stateId: bytes.readUInt16BE(2),
  key: keyPackr.unpack(bytes.subarray(4)) as KeyValue,
});

/** The byte range holding every cell of key groups `[start, end]` (inclusive). */
export const keyGroupByteRange = (start: number, end: number): { gte: Buffer; lt: Buffer } => {
  const gte = Buffer.alloc(2);
  gte.writeUInt16BE(start, 0);
  const lt = Buffer.alloc(2);
  if (end + 1 > 0xffff) return { gte, lt: Buffer.from([0xff, 0xff, 0xff]) };
  lt.writeUInt16BE(end + 1, 0);
  return { gte, lt };
};
