/**
 * Key/value (de)serializers for Kafka records. A deserializer that throws marks the record as
 * unreadable; the source's bad-record policy decides what happens (fail, skip, dead-letter).
 */
import { Packr } from "msgpackr";

export type Deserializer<T> = (bytes: Buffer | null) => T;
export type Serializer<T> = (value: T) => Buffer | string | null;

const packr = new Packr({ useRecords: false });

export const deserializers = {
  string: ((b) => (b === null ? "" : b.toString("utf8"))) as Deserializer<string>,
  json: ((b) => (b === null ? null : JSON.parse(b.toString("utf8")))) as Deserializer<unknown>,
  msgpack: ((b) => (b === null ? null : packr.unpack(b))) as Deserializer<unknown>,
  bytes: ((b) => b ?? Buffer.alloc(0)) as Deserializer<Buffer>,
  /** The key or value is ignored (null). */
  none: (() => null) as Deserializer<null>,
};

export const serializers = {
  string: ((v: string) => v) as Serializer<string>,
  json: ((v: unknown) => JSON.stringify(v)) as Serializer<unknown>,
  msgpack: ((v: unknown) => packr.pack(v)) as Serializer<unknown>,
  bytes: ((v: Buffer) => v) as Serializer<Buffer>,
};

export type DeserializerName = keyof typeof deserializers;
