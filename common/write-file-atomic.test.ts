import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { writeFileAtomic } from "./write-file-atomic.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "weir-write-atomic-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("creates and replaces the file, leaving no temp file; a temp file left by a crash is overwritten", async () => {
  const path = join(dir, "completed.json");
  await writeFileAtomic(path, JSON.stringify({ id: 1 }));
  expect(await readFile(path, "utf8")).toBe('{"id":1}');
  await writeFile(join(dir, ".completed.json.tmp"), "torn {"); // a crash mid-write
  await writeFileAtomic(path, Buffer.from('{"id":2}'));
  expect(await readFile(path, "utf8")).toBe('{"id":2}');
  expect(await readdir(dir)).toEqual(["completed.json"]);
});

test("fails with the file system's error when the directory is missing", async () => {
  await expect(writeFileAtomic(join(dir, "missing", "f"), "x")).rejects.toMatchObject({ code: "ENOENT" });
});
