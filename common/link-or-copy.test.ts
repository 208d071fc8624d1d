/**
 * linkOrCopy on real file systems: a link on the same one, a copy (or a link to the identical
 * file given as `sameFileAt`) across two, and the file system's own error for everything else.
 * "Across" is /dev/shm or a tmpfs mounted for the test; without either the cross-device cases
 * print why and are skipped.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { secondFileSystem } from "../test/support/second-fs.ts";
import { linkOrCopy } from "./link-or-copy.ts";

const here = await mkdtemp(join(tmpdir(), "weir-link-or-copy-"));
const second = await secondFileSystem(here);
if (second.kind === "unavailable") console.warn(`link-or-copy: cross-device cases skipped: ${second.reason}`);
afterAll(async () => {
  await rm(here, { recursive: true, force: true });
  if (second.kind === "available") await second.cleanup();
});

let n = 0;
const file = async (dir: string, content: string) => {
  const path = join(dir, `f${n++}`);
  await writeFile(path, content);
  return path;
};

describe("on one file system", () => {
  test("links: the target is the same inode", async () => {
    const from = await file(here, "sst bytes");
    const to = join(here, "linked");
    expect(await linkOrCopy(from, to)).toBe("linked");
    expect((await stat(to)).ino).toBe((await stat(from)).ino);
  });

  test("a missing source or an existing target rejects with the file system's error", async () => {
    await expect(linkOrCopy(join(here, "absent"), join(here, "x"))).rejects.toMatchObject({ code: "ENOENT" });
    const from = await file(here, "a");
    const taken = await file(here, "b");
    await expect(linkOrCopy(from, taken)).rejects.toMatchObject({ code: "EEXIST" });
    expect(await readFile(taken, "utf8")).toBe("b");
  });
});

describe.skipIf(second.kind !== "available")("across two file systems", () => {
  const there = () => (second.kind === "available" ? second.dir : "");

  test("the two directories really are on different devices", async () => {
    expect((await stat(there())).dev).not.toBe((await stat(here)).dev);
  });

  test("copies: same content, a separate file on the target's device", async () => {
    const from = await file(here, "x".repeat(100_000));
    const to = join(there(), `copied-${n++}`);
    expect(await linkOrCopy(from, to)).toBe("copied");
    expect(await readFile(to, "utf8")).toBe("x".repeat(100_000));
    expect((await stat(to)).dev).toBe((await stat(there())).dev);
  });

  test("links to `sameFileAt` on the target's side when it is there with the same size", async () => {
    const from = await file(here, "immutable sst");
    const previous = await file(there(), "immutable sst");
    const to = join(there(), `shared-${n++}`);
    expect(await linkOrCopy(from, to, { sameFileAt: previous })).toBe("linked-same-file");
    expect((await stat(to)).ino).toBe((await stat(previous)).ino);
  });

  test("copies when `sameFileAt` is missing or of another size", async () => {
    const from = await file(here, "immutable sst");
    const gone = join(there(), "deleted-checkpoint-file");
    expect(await linkOrCopy(from, join(there(), `a-${n++}`), { sameFileAt: gone })).toBe("copied");
    const other = await file(there(), "another file");
    const to = join(there(), `b-${n++}`);
    expect(await linkOrCopy(from, to, { sameFileAt: other })).toBe("copied");
    expect(await readFile(to, "utf8")).toBe("immutable sst");
  });

  test("an existing target still rejects with EEXIST, and is left as it was", async () => {
    const from = await file(here, "new");
    const taken = await file(there(), "old");
    await expect(linkOrCopy(from, taken)).rejects.toMatchObject({ code: "EEXIST" });
    expect(await readFile(taken, "utf8")).toBe("old");
  });
});
