/**
 * Producing side of bench/thread-transport.ts, on a worker thread. Per pass ("go" message) it sends
 * `batches` record batches to the main thread by `transport`, then an end marker:
 * - `clone`: postMessage of the record array (structured clone), at most `window` batches in
 *   flight (the consumer returns one credit per batch);
 * - `transfer`: each batch msgpackr-encoded into its own ArrayBuffer, posted with transfer, same
 *   credits;
 * - `ring`: each batch encoded straight into the SPSC ring (backpressure: the ring is full); an
 *   empty frame ends the pass.
 * The record arrays are built once before the first pass, so their creation is not measured; with
 * `preEncoded` their encodings too (the transport alone).
 */
import { parentPort, workerData } from "node:worker_threads";
import { writeFrame } from "../engine/exchange/ring-wait.ts";
import { openRingWriter } from "../engine/exchange/spsc-ring.ts";
import { bidBatches, encoderFor, type CodecName } from "./lib/transport-records.ts";

export type Transport = "clone" | "transfer" | "ring";
export interface ProducerConfig {
  readonly transport: Transport;
  readonly codec: CodecName;
  /** Send the pool's batches encoded once beforehand (measures the transport alone). */
  readonly preEncoded: boolean;
  readonly batches: number;
  readonly batchSize: number;
  readonly distinctBatches: number;
  readonly window: number;
  readonly sab: SharedArrayBuffer | undefined;
}
export type ToProducer = { readonly kind: "go" } | { readonly kind: "credit" } | { readonly kind: "stop" };
export type FromProducer = { readonly kind: "ready" } | { readonly kind: "batch"; readonly records: unknown } | { readonly kind: "bytes"; readonly bytes: ArrayBuffer } | { readonly kind: "end" };

const config = workerData as ProducerConfig;
const port = parentPort!;
const pool = bidBatches(config.distinctBatches, config.batchSize);
const packr = encoderFor(config.codec);
const encodedPool = config.preEncoded ? pool.map((b) => Buffer.from(packr.pack(b))) : [];
const encode = (i: number): Uint8Array => (config.preEncoded ? encodedPool[i % encodedPool.length]! : packr.pack(pool[i % pool.length]!));
const writer = config.sab === undefined ? undefined : openRingWriter(config.sab);

let credit = config.window;
let creditCame: (() => void) | undefined;

const waitForCredit = async (): Promise<void> => {
  while (credit === 0) await new Promise<void>((resolve) => (creditCame = resolve));
  credit--;
};

const pass = async (): Promise<void> => {
  for (let i = 0; i < config.batches; i++) {
    const batch = pool[i % pool.length]!;
    if (config.transport === "ring") {
      const outcome = await writeFrame(writer!, encode(i), {});
      if (outcome !== "ready") throw new Error(`ring write: ${outcome}`);
      continue;
    }
    if (credit === 0) await waitForCredit();
    else credit--;
    if (config.transport === "clone") {
      port.postMessage({ kind: "batch", records: batch });
    } else {
      const encoded = encode(i); // a view into msgpackr's reused buffer (or the pool): copy it out to transfer
      const bytes = encoded.buffer.slice(encoded.byteOffset, encoded.byteOffset + encoded.byteLength) as ArrayBuffer;
      port.postMessage({ kind: "bytes", bytes }, [bytes]);
    }
  }
  if (config.transport === "ring") await writeFrame(writer!, new Uint8Array(0), {});
  else port.postMessage({ kind: "end" });
};

port.on("message", (m: ToProducer) => {
  if (m.kind === "credit") {
    credit++;
    const wake = creditCame;
    creditCame = undefined;
    wake?.();
  } else if (m.kind === "go") {
    pass().catch((e: unknown) => process.nextTick(() => { throw e; }));
  } else {
    port.close();
  }
});
port.postMessage({ kind: "ready" });
