/**
 * Specification of the two-phase file sink (connectors/file-sink.ts). The reader's contract: the
 * committed part files are exactly the files in the directory whose names do not start with ".".
 */
import { mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { WeirError } from "../../common/errors.ts";
import { toFiles, type FileCommittable } from "../../connectors/file-sink.ts";
import type { SinkContext, SinkWriter } from "../../connectors/sink.ts";

interface Row {
  readonly id: number;
  readonly text: string;
}

const context = (overrides: Partial<SinkContext> = {}): SinkContext => ({
  checkpointIntervalMs: 1_000,
  jobName: "t",
  operatorName: "s",
  subtask: 0,
  parallelism: 1,
  runId: "r1",
  ...overrides,
});

const rows = (from: number, count: number, tag = "row"): Row[] =>
  Array.from({ length: count }, (_, i) => ({ id: from + i, text: `${tag} ${from + i} é日😀 "quoted" \\ \n` }));

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "weir-file-sink-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Names a reader would see: files not starting with a dot. */
const visible = async (d = dir): Promise<string[]> => (await readdir(d)).filter((n) => !n.startsWith(".")).sort();
const hidden = async (d = dir): Promise<string[]> => (await readdir(d)).filter((n) => n.startsWith(".")).sort();

/** Part number n of `part-<run>-<subtask>-<n>-chk<checkpoint>.jsonl`. */
const partNumber = (name: string): number => {
  const match = /-(\d+)-chk\d+\.jsonl$/.exec(name);
  if (match === null) throw new Error(`not a part file: ${name}`);
  return Number(match[1]);
};

/** The committed records of one (runId, subtask), in part order. */
const committedRecords = async <T = Row>(runId = "r1", subtask = 0, d = dir): Promise<T[]> => {
  const parts = (await visible(d))
    .filter((n) => n.startsWith(`part-${runId}-${subtask}-`))
    .sort((a, b) => partNumber(a) - partNumber(b));
  const out: T[] = [];
  for (const part of parts) {
    const text = await readFile(join(d, part), "utf8");
    expect(text.endsWith("\n")).toBe(true);
    for (const line of text.slice(0, -1).split("\n")) out.push(JSON.parse(line) as T);
  }
  return out;
};

const snapshot = async (): Promise<Record<string, string>> => {
  const result: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) result[name] = await readFile(join(dir, name), "utf8");
  return result;
};

const writer = async (ctx: SinkContext = context(), maxPartBytes?: number): Promise<SinkWriter<Row, FileCommittable>> =>
  await toFiles<Row>(dir, maxPartBytes === undefined ? {} : { maxPartBytes }).createWriter(ctx);

describe("toFiles: two-phase commit", () => {
  test("written records are invisible to readers before preCommit", async () => {
    const w = await writer();
    await w.write(rows(0, 3));
    await w.write(rows(3, 2));
    expect(await visible()).toEqual([]);
    await w.close();
  });

  test("after preCommit only hidden pending files exist, and the committables name them", async () => {
    const w = await writer();
    await w.write(rows(0, 5));
    const committables = await w.preCommit(1);
    expect(await visible()).toEqual([]);
    expect(committables.length).toBeGreaterThan(0);
    for (const c of committables) {
      expect(basename(c.pending).startsWith(".")).toBe(true);
      expect(basename(c.final).startsWith(".")).toBe(false);
      await expect(stat(c.pending)).resolves.toBeDefined();
      await expect(stat(c.final)).rejects.toThrow();
    }
    // Committables are plain data: they survive a JSON round trip (they go into checkpoints).
    expect(JSON.parse(JSON.stringify(committables))).toEqual(committables);
    await w.close();
  });

  test("after commit the part files hold exactly the JSON lines written, in order", async () => {
    const w = await writer();
    const input = rows(0, 20);
    await w.write(input.slice(0, 7));
    await w.write(input.slice(7, 8));
    await w.write(input.slice(8));
    await w.commit(await w.preCommit(1));
    await w.close();
    expect(await hidden()).toEqual([]);
    expect(await committedRecords()).toEqual(input);
    const text = (await Promise.all((await visible()).map((n) => readFile(join(dir, n), "utf8")))).join("");
    expect(text).toBe(input.map((r) => `${JSON.stringify(r)}\n`).join(""));
  });

  test("the output directory is created if missing", async () => {
    const nested = join(dir, "a", "b");
    const w = await toFiles<Row>(nested).createWriter(context());
    await w.write(rows(0, 2));
    await w.commit(await w.preCommit(1));
    await w.close();
    expect(await committedRecords("r1", 0, nested)).toEqual(rows(0, 2));
  });

  test("a custom encoder writes its own line per record", async () => {
    const w = await toFiles<Row>(dir, { encode: (r) => `#${r.id}` }).createWriter(context());
    await w.write(rows(0, 3));
    await w.commit(await w.preCommit(1));
    await w.close();
    const [part] = await visible();
    expect(await readFile(join(dir, part!), "utf8")).toBe("#0\n#1\n#2\n");
  });

  test("preCommit cuts when called: records written while it is pending (rollover included) belong to the next checkpoint", async () => {
    const w = await writer(context(), 300);
    expect(w.cutsOnCall).toBe(true);
    await w.write(rows(0, 2));
    const first = w.preCommit(1);
    const second = (async () => {
      for (let i = 2; i < 10; i++) await w.write(rows(i, 1));
      return w.preCommit(2);
    })();
    const [c1, c2] = await Promise.all([first, second]);
    expect(c2.length).toBeGreaterThan(1);
    await w.commit(c1);
    expect(await committedRecords()).toEqual(rows(0, 2));
    await w.commit(c2);
    expect(await committedRecords()).toEqual(rows(0, 10));
    await w.close();
  });

  test("each checkpoint's data becomes visible only when its own committables are committed", async () => {
    const w = await writer();
    await w.write(rows(0, 3));
    const c1 = await w.preCommit(1);
    await w.write(rows(3, 4));
    const c2 = await w.preCommit(2);
    expect(await visible()).toEqual([]);
    await w.commit(c1);
    expect(await committedRecords()).toEqual(rows(0, 3));
    await w.commit(c2);
    expect(await committedRecords()).toEqual(rows(0, 7));
    await w.close();
  });

  test("preCommit with nothing written returns no committables and commits nothing", async () => {
    const w = await writer();
    const committables = await w.preCommit(1);
    expect(committables).toEqual([]);
    await w.commit(committables);
    expect(await readdir(dir)).toEqual([]);
    await w.close();
  });

  test("close without commit leaves nothing visible", async () => {
    const w = await writer();
    await w.write(rows(0, 3));
    await w.preCommit(1);
    await w.write(rows(3, 3));
    await w.close();
    expect(await visible()).toEqual([]);
  });
});

describe("toFiles: idempotent commit", () => {
  test("committing the same committables twice succeeds and changes nothing", async () => {
    const w = await writer();
    await w.write(rows(0, 10));
    const committables = await w.preCommit(1);
    await w.commit(committables);
    const after = await snapshot();
    await expect(w.commit(committables)).resolves.toBeUndefined();
    expect(await snapshot()).toEqual(after);
    expect(await committedRecords()).toEqual(rows(0, 10));
    await w.close();
  });

  test("a new writer (as after a restart) can re-commit committables restored from a checkpoint", async () => {
    const w = await writer();
    await w.write(rows(0, 4));
    const stored = JSON.parse(JSON.stringify(await w.preCommit(1))) as FileCommittable[];
    await w.commit(stored);
    await w.close();
    const before = await snapshot();
    const restarted = await writer(context({ runId: "r2" }));
    await restarted.commit(stored);
    await restarted.close();
    expect(await snapshot()).toEqual(before);
    expect(await committedRecords()).toEqual(rows(0, 4));
  });

  test("a new writer can commit pending files that the crashed writer never committed", async () => {
    const w = await writer();
    await w.write(rows(0, 4));
    const stored = JSON.parse(JSON.stringify(await w.preCommit(1))) as FileCommittable[];
    // crash: no commit, no close
    const restarted = await writer(context({ runId: "r2" }));
    await restarted.commit(stored);
    await restarted.close();
    expect(await committedRecords()).toEqual(rows(0, 4));
    await w.close();
  });

  test("committing a pending file that is gone, its final file missing too, is a user error naming the file, not a silent success", async () => {
    const w = await writer();
    const bogus: FileCommittable = { pending: join(dir, ".part-x-0-0-chk1.pending"), final: join(dir, "part-x-0-0-chk1.jsonl") };
    const error: unknown = await w.commit([bogus]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WeirError);
    // The output directory was changed behind the job's back: retrying cannot help.
    expect((error as WeirError).code).toBe("FILE_SINK_OUTPUT_MISSING");
    expect((error as WeirError).domain).toBe("user");
    expect((error as WeirError).retriable).toBe(false);
    expect((error as WeirError).message).toContain(join(dir, "part-x-0-0-chk1.jsonl"));
    expect((error as WeirError).message).toContain("--fresh");
    await w.close();
  });
});

describe("toFiles: rollover and concurrency", () => {
  test("rollover at maxPartBytes gives several parts whose concatenation, by part number, is the input", async () => {
    const maxPartBytes = 200;
    const w = await writer(context(), maxPartBytes);
    const input = rows(0, 40);
    for (const r of input) await w.write([r]);
    const committables = await w.preCommit(1);
    expect(committables.length).toBeGreaterThan(1);
    await w.commit(committables);
    await w.close();

    const parts = (await visible()).sort((a, b) => partNumber(a) - partNumber(b));
    expect(parts.length).toBe(committables.length);
    expect(await committedRecords()).toEqual(input);
    // Every part but the last reached the limit, and rolled over as soon as it did.
    const lineBytes = (r: Row) => Buffer.byteLength(`${JSON.stringify(r)}\n`);
    for (const [k, part] of parts.entries()) {
      const text = await readFile(join(dir, part), "utf8");
      const records = text
        .slice(0, -1)
        .split("\n")
        .map((l) => JSON.parse(l) as Row);
      const size = Buffer.byteLength(text);
      if (k < parts.length - 1) expect(size).toBeGreaterThanOrEqual(maxPartBytes);
      expect(size - lineBytes(records[records.length - 1]!)).toBeLessThan(maxPartBytes);
    }
  });

  test("rollover across several checkpoints keeps the order and numbers parts increasingly", async () => {
    const w = await writer(context(), 150);
    const input = rows(0, 30);
    for (let cp = 1; cp <= 3; cp++) {
      for (const r of input.slice((cp - 1) * 10, cp * 10)) await w.write([r]);
      await w.commit(await w.preCommit(cp));
      expect(await committedRecords()).toEqual(input.slice(0, cp * 10));
    }
    await w.close();
    const numbers = (await visible()).map(partNumber).sort((a, b) => a - b);
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  test("two subtasks writing into the same directory do not collide", async () => {
    const w0 = await writer(context({ subtask: 0, parallelism: 2 }), 120);
    const w1 = await writer(context({ subtask: 1, parallelism: 2 }), 120);
    const in0 = rows(0, 15, "zero");
    const in1 = rows(100, 15, "one");
    for (let i = 0; i < 15; i++) {
      await w0.write([in0[i]!]);
      await w1.write([in1[i]!]);
    }
    const [c0, c1] = await Promise.all([w0.preCommit(1), w1.preCommit(1)]);
    expect(new Set([...c0!, ...c1!].map((c) => c.final)).size).toBe(c0!.length + c1!.length);
    await Promise.all([w0.commit(c0!), w1.commit(c1!)]);
    await Promise.all([w0.close(), w1.close()]);
    expect(await committedRecords("r1", 0)).toEqual(in0);
    expect(await committedRecords("r1", 1)).toEqual(in1);
    expect((await visible()).length).toBe(c0!.length + c1!.length);
  });

  test("two runs of the same subtask (different runIds) do not collide", async () => {
    const a = await writer(context({ runId: "ra" }));
    const b = await writer(context({ runId: "rb" }));
    await a.write(rows(0, 3, "a"));
    await b.write(rows(0, 3, "b"));
    await a.commit(await a.preCommit(1));
    await b.commit(await b.preCommit(1));
    await Promise.all([a.close(), b.close()]);
    expect(await committedRecords("ra", 0)).toEqual(rows(0, 3, "a"));
    expect(await committedRecords("rb", 0)).toEqual(rows(0, 3, "b"));
  });
});

describe("toFiles: readCommitted (what weir verify --real-sinks reads back)", () => {
  test("returns the committed records only, per subtask in write order, runs in the order they ran", async () => {
    const first = await writer(context({ runId: "a1" }), 120);
    await first.write(rows(0, 10));
    await first.commit(await first.preCommit(1));
    await first.write(rows(10, 2)); // pre-committed, never committed: not visible
    await first.preCommit(2);
    await first.close();
    // A later run (run ids grow with time: longer, or equal length and later) at parallelism 2.
    const s0 = await writer(context({ runId: "a2", subtask: 0, parallelism: 2 }));
    const s1 = await writer(context({ runId: "a2", subtask: 1, parallelism: 2 }));
    await s1.write(rows(200, 2));
    await s0.write(rows(100, 2));
    await s0.commit(await s0.preCommit(3));
    await s1.commit(await s1.preCommit(3));
    await Promise.all([s0.close(), s1.close()]);
    expect(await toFiles<Row>(dir).readCommitted!()).toEqual([...rows(0, 10), ...rows(100, 2), ...rows(200, 2)]);
  });

  test("an empty or missing directory holds nothing; a custom encoder cannot be read back", async () => {
    expect(await toFiles<Row>(dir).readCommitted!()).toEqual([]);
    expect(await toFiles<Row>(join(dir, "missing")).readCommitted!()).toEqual([]);
    expect(await toFiles<Row>(dir, { encode: (r) => String(r.id) }).readCommitted!()).toBeUndefined();
  });
});
