import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openHashPool, type HashPool } from "./hash-pool.ts";

let dir: string | undefined;
let pool: HashPool | undefined;
afterEach(async () => {
  await pool?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("openHashPool", () => {
  it("hashes many files at once on its workers, each digest that of the file's bytes", async () => {
    dir = await mkdtemp(join(tmpdir(), "weir-hash-pool-"));
    const sizes = [0, 1, 1000, (1 << 20) + 17, 3 << 20, 5, 64 * 1024];
    const files = await Promise.all(
      sizes.map(async (size, i) => {
        const bytes = randomBytes(size);
        const path = join(dir!, `f${i}`);
        await writeFile(path, bytes);
        return { path, size, sha256: createHash("sha256").update(bytes).digest("hex") };
      }),
    );
    pool = openHashPool({ workers: 2 });
    const digests = await Promise.all(files.map((f) => pool!.hash(f.path)));
    expect(digests).toEqual(files.map(({ sha256, size }) => ({ sha256, size })));
  });

  it("a file that cannot be read rejects with the file system's code; the pool keeps working", async () => {
    dir = await mkdtemp(join(tmpdir(), "weir-hash-pool-"));
    await writeFile(join(dir, "ok"), "abc");
    pool = openHashPool({ workers: 1 });
    await expect(pool.hash(join(dir, "gone"))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(pool.hash(dir)).rejects.toMatchObject({ code: "EISDIR" });
    expect(await pool.hash(join(dir, "ok"))).toEqual({ sha256: createHash("sha256").update("abc").digest("hex"), size: 3 });
  });

  it("after close, hashing rejects", async () => {
    pool = openHashPool({ workers: 1 });
    await pool.close();
    await pool.close();
    await expect(pool.hash("/dev/null")).rejects.toThrow(/closed/);
  });
});
