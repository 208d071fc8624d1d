/**
 * SHA-256 of many files on worker threads, so verifying a large checkpoint uses every core
 * instead of hashing file after file on the event loop (`sha256File`, ~1 GiB/s on one core).
 *
 *   const pool = openHashPool({ workers: 2 });
 *   try {
 *     const [a, b] = await Promise.all([pool.hash("x.sst"), pool.hash("y.sst")]);
 *   } finally {
 *     await pool.close();
 *   }
 *
 * Contract: `hash` resolves like `sha256File` (hex digest and bytes read) and rejects with an
 * Error carrying the file system's `code` (ENOENT, EIO, ...) when the file cannot be read, so
 * callers tell a missing file from a read error as before. Files are handed to the next idle
 * worker in call order. A worker that dies rejects its file and every queued one; `close()`
 * terminates the workers (idempotent) and rejects what is still queued.
 */
import { Worker } from "node:worker_threads";

// Plain JavaScript (an eval'd CommonJS worker): no TypeScript loader in the worker.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { createReadStream } = require("node:fs");
parentPort.on("message", async (path) => {
  try {
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      hash.update(chunk);
      size += chunk.length;
    }
    parentPort.postMessage({ sha256: hash.digest("hex"), size });
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message), code: e && e.code });
  }
});
`;

export interface FileDigest {
  readonly sha256: string;
  readonly size: number;
}

export interface HashPool {
  hash(path: string): Promise<FileDigest>;
  close(): Promise<void>;
}

type Reply = FileDigest | { readonly error: string; readonly code?: string };

interface Job {
  readonly path: string;
  resolve(d: FileDigest): void;
  reject(e: Error): void;
}

const errorOf = (message: string, code: string | undefined): Error => Object.assign(new Error(message), code === undefined ? {} : { code });

export const openHashPool = (options: { readonly workers: number }): HashPool => {
  const queue: Job[] = [];
  const idle: Worker[] = [];
  const busy = new Map<Worker, Job>();
  let closed = false;

  const next = () => {
    while (idle.length > 0 && queue.length > 0) {
      const worker = idle.pop()!;
      const job = queue.shift()!;
      busy.set(worker, job);
      worker.postMessage(job.path);
    }
  };
  const failAll = (e: Error) => {
    for (const job of queue.splice(0)) job.reject(e);
  };

  for (let i = 0; i < Math.max(1, options.workers); i++) {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on("message", (reply: Reply) => {
      const job = busy.get(worker);
      busy.delete(worker);
      idle.push(worker);
      if (job !== undefined) {
        if ("error" in reply) job.reject(errorOf(`${reply.error}`, reply.code));
        else job.resolve(reply);
      }
      next();
    });
    const died = (e: Error) => {
      busy.get(worker)?.reject(e);
      busy.delete(worker);
      const at = idle.indexOf(worker);
      if (at >= 0) idle.splice(at, 1);
      if (idle.length === 0 && busy.size === 0) failAll(e);
    };
    worker.on("error", died);
    worker.on("exit", (code) => died(new Error(`hash worker exited (code ${code})`)));
    idle.push(worker);
  }

  return {
    hash(path) {
      if (closed) return Promise.reject(new Error("hash pool is closed"));
      return new Promise<FileDigest>((resolve, reject) => {
        queue.push({ path, resolve, reject });
        next();
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      failAll(new Error("hash pool is closed"));
      await Promise.all([...idle, ...busy.keys()].map((w) => w.terminate()));
    },
  };
};
