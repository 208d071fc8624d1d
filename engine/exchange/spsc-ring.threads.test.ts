import { setTimeout as sleep } from "node:timers/promises";
import { expect, test } from "vitest";
import { startTsWorker } from "../../common/ts-worker.ts";
import { checksumStep, frameContent } from "../../test/fixtures/ring-frames.ts";
import { readFrame } from "./ring-wait.ts";
import { allocateRing, openRingReader, openRingWriter } from "./spsc-ring.ts";

type ProducerMessage = { kind: "full" } | { kind: "done"; checksum: number; fullTimes: number };

test("a worker's frames reach the main thread in order and byte for byte; a slow reader makes the producer wait", async () => {
  const frames = 2000;
  const maxLength = 1000;
  const sab = allocateRing({ capacityBytes: 4096 });
  const worker = startTsWorker(new URL("../../test/fixtures/ring-producer.ts", import.meta.url), {
    workerData: { sab, frames, maxLength },
  });
  const peerGone = new AbortController();
  const messages: ProducerMessage[] = [];
  let wake: () => void = () => {};
  let failure: unknown;
  worker.on("message", (m: ProducerMessage) => {
    messages.push(m);
    wake();
  });
  worker.on("error", (e) => {
    failure = e;
    wake();
  });
  worker.on("exit", () => peerGone.abort());
  const message = async (kind: ProducerMessage["kind"]): Promise<ProducerMessage> => {
    for (;;) {
      if (failure !== undefined) throw failure;
      const found = messages.find((m) => m.kind === kind);
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };

  try {
    // Read nothing until the producer has found the ring full: it must wait, not drop or overwrite.
    await message("full");
    const reader = openRingReader(sab);
    let checksum = 0;
    for (let i = 0; i < frames; i++) {
      const frame = await readFrame(reader, { signal: peerGone.signal, timeoutMs: 30_000 });
      if (typeof frame === "string") throw new Error(`frame ${i}: ${frame} (${String(failure)})`);
      const expected = frameContent(i, maxLength);
      if (!Buffer.from(frame).equals(expected)) expect(frame).toEqual(expected); // shows the difference
      checksum = checksumStep(checksum, frame);
      if (i % 100 === 0) await sleep(1); // a slow reader
    }
    const done = await message("done");
    expect(done).toEqual({ kind: "done", checksum, fullTimes: expect.any(Number) });
    expect(reader.tryRead()).toBeUndefined();
  } finally {
    await worker.terminate();
  }
}, 20_000);

test("a worker whose only pending work is a ring wait stays alive until the frames come (Atomics.waitAsync alone would not keep it)", async () => {
  const frames = 20;
  const sab = allocateRing({ capacityBytes: 4096 });
  const worker = startTsWorker(new URL("../../test/fixtures/ring-consumer.ts", import.meta.url), {
    workerData: { sab, frames, keepAlive: true },
  });
  const events: string[] = [];
  let checksumSeen: number | undefined;
  const exited = new Promise<void>((resolve) => worker.on("exit", () => resolve()));
  const waiting = new Promise<void>((resolve, reject) => {
    worker.on("message", (m: { kind: string; checksum?: number }) => {
      events.push(m.kind);
      if (m.kind === "done") checksumSeen = m.checksum;
      if (m.kind === "waiting") resolve();
    });
    worker.on("error", reject);
    void exited.then(() => events.push("exit"));
  });
  try {
    await waiting;
    await sleep(100); // long enough for an idle worker with nothing keeping it alive to exit
    const writer = openRingWriter(sab);
    let checksum = 0;
    for (let i = 0; i < frames; i++) {
      const frame = frameContent(i, 100);
      expect(writer.tryWrite(frame)).toBe(true);
      checksum = checksumStep(checksum, frame);
      if (i % 5 === 0) await sleep(1);
    }
    await exited;
    expect(events).toEqual(["waiting", "done", "exit"]);
    expect(checksumSeen).toBe(checksum);
  } finally {
    await worker.terminate();
  }
});
