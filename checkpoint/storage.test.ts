/**
 * What counts as damage of a checkpoint (a fallback skips it) and what does not (it stops the
 * caller, changing nothing), on real files; and the highest completed checkpoint of a job.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WeirError } from "../common/errors.ts";
import { findSnapshotDamage, type KeyedStateHandle } from "../state/snapshot.ts";
import { highestCompleted, recordCompleted } from "./completed-record.ts";
import { checkpointPath, findLatest, verifyFiles, writeMetadata } from "./storage.ts";
import { openHashPool } from "../common/hash-pool.ts";
import { METADATA_FORMAT, type CheckpointMetadata } from "./metadata.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "weir-storage-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const metadata = (id: number): CheckpointMetadata => ({
  format: METADATA_FORMAT,
  job: "j",
  id,
  timestamp: 0,
  completedAt: 0,
  final: false,
  maxParallelism: 128,
  tasks: [],
});

const thrown = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as WeirError,
  );

describe("findSnapshotDamage: only ENOENT, a size or a checksum mismatch is damage", () => {
  const handleOf = (name: string, size: number): KeyedStateHandle => ({
    backend: "rocksdb",
    path: "x",
    keyGroups: { start: 0, end: 127 },
    bytes: size,
    newBytes: size,
    files: 1,
    contents: [{ name, size, sha256: createHash("sha256").update("").digest("hex") }],
  });

  it("a missing file is damage", async () => {
    expect(await findSnapshotDamage(handleOf("gone.sst", 3), root, true)).toBe(`${join(root, "gone.sst")} is missing`);
  });

  it("a file that cannot be read (EISDIR here, like EIO or EACCES) is a retriable external error naming it, not damage", async () => {
    // A directory where the file should be: same size as recorded, but reading it fails.
    await mkdir(join(root, "odd.sst"));
    const size = (await stat(join(root, "odd.sst"))).size;
    const error = await thrown(findSnapshotDamage(handleOf("odd.sst", size), root, true));
    expect(error).toBeInstanceOf(WeirError);
    expect(error?.code).toBe("CHECKPOINT_READ_FAILED");
    expect(error?.domain).toBe("external");
    expect(error?.retriable).toBe(true);
    expect(error?.message).toContain(`cannot read ${join(root, "odd.sst")}: EISDIR`);
  });
});

describe("checking files concurrently, hashed on worker threads", () => {
  const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
  const handleOf = (files: { name: string; size: number; sha256: string }[], path = "x"): KeyedStateHandle => ({
    backend: "rocksdb",
    path,
    keyGroups: { start: 0, end: 127 },
    bytes: 0,
    newBytes: 0,
    files: files.length,
    contents: files,
  });

  it("with the default hash or a pool's, the damage reported is the first in the handle's order", async () => {
    await writeFile(join(root, "a.sst"), "aaa");
    await writeFile(join(root, "b.sst"), "bbb");
    const handle = handleOf([
      { name: "a.sst", size: 3, sha256: sha("aaa") },
      { name: "b.sst", size: 3, sha256: sha("xxx") },
      { name: "c.sst", size: 3, sha256: sha("ccc") },
    ]);
    const pool = openHashPool({ workers: 2 });
    try {
      for (const hash of [undefined, pool.hash]) {
        expect(await findSnapshotDamage(handle, root, true, hash)).toMatch(new RegExp(`^${join(root, "b.sst")} does not match its recorded checksum`));
        expect(await findSnapshotDamage(handleOf(handle.contents!.slice(0, 1)), root, true, hash)).toBeUndefined();
      }
      await mkdir(join(root, "odd.sst"));
      const size = (await stat(join(root, "odd.sst"))).size;
      const error = await thrown(findSnapshotDamage(handleOf([{ name: "odd.sst", size, sha256: sha("") }]), root, true, pool.hash));
      expect(error?.code).toBe("CHECKPOINT_READ_FAILED");
    } finally {
      await pool.close();
    }
  });

  it("verifyFiles hashes a large checkpoint on worker threads and finds a damaged file", async () => {
    const big = Buffer.alloc(65 << 20, 7);
    const dir = checkpointPath(root, "j", 1);
    await mkdir(join(dir, "op", "0"), { recursive: true });
    await writeFile(join(dir, "op", "0", "big.sst"), big);
    const withChecksum = (sha256: string): CheckpointMetadata => ({
      ...metadata(1),
      tasks: [{ task: "t", sources: [], sinks: [], durationMs: 0, keyed: [{ operator: "op", subtask: 0, parallelism: 1, handle: handleOf([{ name: "big.sst", size: big.length, sha256 }], "chk-1/op/0") }] }],
    });
    await verifyFiles(dir, withChecksum(sha(big)));
    const error = await thrown(verifyFiles(dir, withChecksum(sha("other"))));
    expect(error?.code).toBe("CHECKPOINT_CORRUPT");
    expect(error?.message).toContain(`state file of 'op' ${join(dir, "op", "0", "big.sst")} does not match its recorded checksum`);
  });
});

describe("findLatest: an unknown metadata format stops it", () => {
  it("CHECKPOINT_UNSUPPORTED_FORMAT naming the path and the format, not a fallback", async () => {
    await writeMetadata(checkpointPath(root, "j", 1), metadata(1));
    const body = JSON.stringify({ ...metadata(2), format: 3 });
    await mkdir(checkpointPath(root, "j", 2), { recursive: true });
    await writeFile(join(checkpointPath(root, "j", 2), "_metadata"), JSON.stringify({ checksum: createHash("sha256").update(body).digest("hex"), body }));
    const error = await thrown(findLatest(root, "j"));
    expect(error?.code).toBe("CHECKPOINT_UNSUPPORTED_FORMAT");
    expect(error?.domain).toBe("user");
    expect(error?.message).toContain(`${join(checkpointPath(root, "j", 2), "_metadata")} has format 3`);
  });
});

describe("highestCompleted", () => {
  it("is the greater of the record and of the checkpoints with a _metadata, including those set aside", async () => {
    expect(await highestCompleted(root, "j")).toBe(0);
    await writeMetadata(checkpointPath(root, "j", 2), metadata(2));
    await mkdir(checkpointPath(root, "j", 9)); // partial: not completed
    expect(await highestCompleted(root, "j")).toBe(2);
    await writeMetadata(`${checkpointPath(root, "j", 4)}.corrupt`, metadata(4));
    expect(await highestCompleted(root, "j")).toBe(4);
    await recordCompleted(root, "j", 7);
    expect(await highestCompleted(root, "j")).toBe(7);
  });

  it("a record that cannot be read (not ENOENT) is a retriable external error naming it", async () => {
    await mkdir(join(root, "j", "completed.json"), { recursive: true });
    const error = await thrown(highestCompleted(root, "j"));
    expect(error?.code).toBe("CHECKPOINT_READ_FAILED");
    expect(error?.retriable).toBe(true);
    expect(error?.message).toContain(join(root, "j", "completed.json"));
  });
});
