import { describe, expect, test } from "vitest";
import { readFrame, waitReadable, waitWritable, writeFrame } from "./ring-wait.ts";
import { allocateRing, openRingReader, openRingWriter } from "./spsc-ring.ts";

const ring = (capacityBytes = 64) => {
  const sab = allocateRing({ capacityBytes });
  return { writer: openRingWriter(sab), reader: openRingReader(sab) };
};
const frame = (length: number, fill: number) => new Uint8Array(length).fill(fill);

describe("waiting on a ring", () => {
  test("a reader waiting on an empty ring wakes when a frame is written", async () => {
    const { writer, reader } = ring();
    const waiting = waitReadable(reader, {});
    writer.tryWrite(frame(3, 1));
    expect(await waiting).toBe("ready");
    expect(reader.tryRead()).toEqual(frame(3, 1));
  });

  test("a reader with a frame queued does not wait", async () => {
    const { writer, reader } = ring();
    writer.tryWrite(frame(3, 1));
    expect(await waitReadable(reader, { timeoutMs: 0 })).toBe("ready");
  });

  test("a writer waiting on a full ring wakes when the reader frees enough", async () => {
    const { writer, reader } = ring();
    for (let i = 0; i < 4; i++) writer.tryWrite(frame(12, i));
    const waiting = waitWritable(writer, 12, {});
    reader.tryRead();
    expect(await waiting).toBe("ready");
    expect(writer.tryWrite(frame(12, 9))).toBe(true);
  });

  test("a writer waiting for a large frame keeps waiting while small frees do not make room", async () => {
    const { writer, reader } = ring();
    for (let i = 0; i < 4; i++) writer.tryWrite(frame(12, i));
    let outcome: string | undefined;
    const waiting = waitWritable(writer, 28, {}).then((o) => (outcome = o));
    reader.tryRead(); // 16 free: not enough for a 32-byte span
    await new Promise((r) => setTimeout(r, 5));
    expect(outcome).toBeUndefined();
    reader.tryRead();
    await waiting;
    expect(outcome).toBe("ready");
  });

  test("a wait ends with timed-out or aborted when nothing comes", async () => {
    const { writer, reader } = ring();
    expect(await waitReadable(reader, { timeoutMs: 1 })).toBe("timed-out");
    for (let i = 0; i < 4; i++) writer.tryWrite(frame(12, i));
    const abort = new AbortController();
    const waiting = waitWritable(writer, 12, { signal: abort.signal });
    abort.abort();
    expect(await waiting).toBe("aborted");
    expect(await readFrame(openRingReader(allocateRing({ capacityBytes: 64 })), { signal: abort.signal })).toBe("aborted");
  });

  test("writeFrame and readFrame hand frames over through waits", async () => {
    const { writer, reader } = ring();
    const sent = Array.from({ length: 40 }, (_, i) => frame(i % 20, i));
    const producing = (async () => {
      for (const f of sent) expect(await writeFrame(writer, f, {})).toBe("ready");
    })();
    const received: Uint8Array[] = [];
    while (received.length < sent.length) {
      const f = await readFrame(reader, {});
      if (typeof f === "string") throw new Error(f);
      received.push(f);
    }
    await producing;
    expect(received).toEqual(sent);
  });
});
