/**
 * State TTL through the runtime, on RocksDB: a job's TTL state is checkpointed with its times
 * (the checkpoint records the ttl with the state), restored at another parallelism on a clock
 * moved forward, where values older than the ttl are gone and younger ones are not; and the
 * checkpoint taken after they expired holds no cell of them. `weir checkpoints inspect` shows the ttl.
 */
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock, type Clock } from "../common/clock.ts";
import { generator } from "../connectors/generator-source.ts";
import { job } from "../engine/job.ts";
import { restorePlanFrom } from "../engine/restore-plan.ts";
import { checkpointPath, listCheckpointIds, readMetadata } from "../checkpoint/storage.ts";
import { listState, valueState } from "../state/descriptors.ts";
import { openRocksBackend } from "../state/rocksdb-backend.ts";
import { inspectCheckpoint } from "../engine/cli/checkpoints-command.ts";
import { collectSink, runDefinition } from "./support/run.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-ttl-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface Cmd {
  readonly k: string;
  readonly write?: number;
}

const HOUR = 3_600_000;

/** Writes `write` to a key's value and list states (ttl 1h), or reads them: `k=value/list`. */
const ttlJob = (records: readonly Cmd[], out: ReturnType<typeof collectSink<string>>) =>
  job("ttl", (env) =>
    env
      .source(generator({ splits: 1, recordsPerSplit: records.length, generate: ({ index }) => records[index]! }), { name: "src" })
      .keyBy((c) => c.k)
      .process(
        {
          state: { last: valueState(-1, { ttl: "1h" }), all: listState<number>({ ttl: HOUR }) },
          processElement(c, ctx, o) {
            if (c.write === undefined) o.collect(`${c.k}=${ctx.state.last.value()}/${ctx.state.all.get().join(",")}`);
            else {
              ctx.state.last.update(c.write);
              ctx.state.all.add(c.write);
            }
          },
        },
        { name: "ttl" },
      )
      .sink(out, { name: "out" }),
  );

/** The system clock moved `offset` ms ahead (processing time only; timers run on the real clock). */
const ahead = (offset: number): Clock => ({ ...systemClock, now: () => Date.now() + offset });

const lastCheckpoint = async (root: string) => {
  const [last] = (await listCheckpointIds(root, "ttl")).slice(-1);
  const dir = checkpointPath(root, "ttl", last!);
  return { dir, metadata: await readMetadata(dir) };
};

/** Cells stored in the RocksDB snapshots of the `ttl` operator in checkpoint `m` (each opened from a copy). */
const storedCells = async (m: { dir: string; metadata: Awaited<ReturnType<typeof readMetadata>> }): Promise<number> => {
  let n = 0;
  for (const source of restorePlanFrom(m.metadata, m.dir).keyed.get("ttl") ?? []) {
    const copy = join(tmp, `inspect-${copies++}`);
    await cp(source.absPath, copy, { recursive: true });
    const kv = await openRocksBackend({ path: copy, createIfMissing: false });
    for await (const entry of kv.scan({ gte: Buffer.alloc(0), lt: Buffer.alloc(8, 0xff) })) if (entry) n++;
    await kv.close();
  }
  return n;
};
let copies = 0;

describe("state TTL in a job (RocksDB)", () => {
  it("keeps each value's time across checkpoint and rescaled restore; what expired is invisible, and gone from the next checkpoint", async () => {
    const keys = ["a", "b", "c", "d", "e", "f"];
    const root = join(tmp, "chk");
    const first = collectSink<string>("first");
    await runDefinition(ttlJob([...keys.map((k, i) => ({ k, write: i })), ...keys.map((k) => ({ k }))], first), {
      stateBackend: "rocksdb",
      stateDir: join(tmp, "state-1"),
      parallelism: 2,
      checkpoints: { root },
    });
    expect(first.all().sort()).toEqual(keys.map((k, i) => `${k}=${i}/${i}`));
    const written = await lastCheckpoint(root);
    const states = written.metadata.tasks.flatMap((t) => t.keyed).flatMap((k) => k.states ?? []);
    expect(states).toContainEqual({ name: "last", id: expect.any(Number), kind: "value", shape: "number", ttl: HOUR });
    expect(states).toContainEqual({ name: "all", id: expect.any(Number), kind: "list", ttl: HOUR });
    const inspected: string[] = [];
    await inspectCheckpoint(written.dir, (line) => inspected.push(line));
    expect(inspected.filter((l) => l.includes("states:"))).toEqual(expect.arrayContaining([expect.stringMatching(/all \(list \(ttl 1h\)\), last \(value number \(ttl 1h\)\)/)]));
    // The keyed state only: the new runs read their own records from the start.
    const restore = (m: typeof written) => ({ ...restorePlanFrom(m.metadata, m.dir), positions: new Map(), committables: new Map(), maxParallelism: 128 });

    // 59 minutes later, at parallelism 3: everything is still there.
    const soon = collectSink<string>("soon");
    await runDefinition(ttlJob(keys.map((k) => ({ k })), soon), {
      stateBackend: "rocksdb",
      stateDir: join(tmp, "state-2"),
      parallelism: 3,
      clock: ahead(59 * 60_000),
      checkpoints: { root: join(tmp, "chk-soon"), restore: restore(written) },
    });
    expect(soon.all().sort()).toEqual(keys.map((k, i) => `${k}=${i}/${i}`));

    // Two hours later, at parallelism 3: a and b are read (expired: the default, an empty list),
    // the others are not read at all; the final checkpoint holds none of them.
    const late = collectSink<string>("late");
    const lateRoot = join(tmp, "chk-late");
    await runDefinition(ttlJob([{ k: "a" }, { k: "b" }], late), {
      stateBackend: "rocksdb",
      stateDir: join(tmp, "state-3"),
      parallelism: 3,
      clock: ahead(2 * HOUR),
      checkpoints: { root: lateRoot, restore: restore(written) },
    });
    expect(late.all().sort()).toEqual(["a=-1/", "b=-1/"]);
    const after = await lastCheckpoint(lateRoot);
    expect(after.metadata.tasks.flatMap((t) => t.keyed)).toHaveLength(3);
    expect(await storedCells(after)).toBe(0);
    // While the first checkpoint, taken before any expired, holds all 12 (6 values, 6 lists).
    expect(await storedCells(written)).toBe(12);
  }, 60_000);
});
