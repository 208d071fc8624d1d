import { expect, test } from "vitest";
import { allocateRing } from "../engine/exchange/spsc-ring.ts";
import { startTsWorker, withoutTsxLoader } from "./ts-worker.ts";

const outcome = (worker: ReturnType<typeof startTsWorker>) =>
  new Promise<{ messages: unknown[]; error: unknown; exitCode: number }>((resolve) => {
    const messages: unknown[] = [];
    let error: unknown;
    worker.on("message", (m) => messages.push(m));
    worker.on("error", (e) => (error = e));
    worker.on("exit", (exitCode) => resolve({ messages, error, exitCode }));
  });

test("a TypeScript module runs in the worker, importing other TypeScript modules", async () => {
  const worker = startTsWorker(new URL("../test/fixtures/ring-consumer.ts", import.meta.url), {
    workerData: { sab: allocateRing({ capacityBytes: 64 }), frames: 0, keepAlive: true },
  });
  const { messages, error, exitCode } = await outcome(worker);
  expect(error).toBeUndefined();
  expect(exitCode).toBe(0);
  expect(messages).toEqual([{ kind: "waiting" }, { kind: "done", checksum: 0 }]);
});

test("a module that cannot be loaded fails the worker with an error event", async () => {
  const worker = startTsWorker(new URL("../test/fixtures/no-such-module.ts", import.meta.url));
  const { error, exitCode } = await outcome(worker);
  expect(error).toMatchObject({ code: "ERR_MODULE_NOT_FOUND" });
  expect(exitCode).toBe(1);
});

test("workers inherit the parent's flags except tsx's loader", () => {
  const underTsx = [
    "--require",
    "/repo/node_modules/tsx/dist/preflight.cjs",
    "--import",
    "file:///repo/node_modules/tsx/dist/loader.mjs",
    "--cpu-prof",
  ];
  expect(withoutTsxLoader(underTsx)).toEqual(["--cpu-prof"]);
  expect(withoutTsxLoader(["--import=tsx", "--max-old-space-size=512", "--import", "./other.mjs"])).toEqual([
    "--max-old-space-size=512",
    "--import",
    "./other.mjs",
  ]);
});
