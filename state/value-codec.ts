/** Encoding of state values: msgpack, with records (shared structures) off so bytes are self-contained. */
import { Packr } from "msgpackr";

const valuePackr = new Packr({ useRecords: false, moreTypes: true });

export const encodeValue = (value: unknown): Buffer => valuePackr.pack(value);
export const decodeValue = (bytes: Buffer): unknown => valuePackr.unpack(bytes);
