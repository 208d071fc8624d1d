import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeDirectory, pathError } from "./path-errors.ts";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-path-errors-"));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const errno = (code: string) => Object.assign(new Error(`${code}: something`), { code });

describe("makeDirectory", () => {
  it("creates missing parents and accepts an existing directory", async () => {
    const dir = join(tmp, "a", "b", "c");
    await makeDirectory(dir);
    await makeDirectory(dir);
    expect((await stat(dir)).isDirectory()).toBe(true);
  });

  it("rejects with ENOTDIR under a regular file and EEXIST on a file", async () => {
    const file = join(tmp, "file");
    await writeFile(file, "x");
    await expect(makeDirectory(join(file, "x", "y"))).rejects.toMatchObject({ code: "ENOTDIR" });
    await expect(makeDirectory(file)).rejects.toMatchObject({ code: "EEXIST" });
  });

  it("rejects (instead of looping forever, as Node 20's recursive mkdir does) where the file system refuses", async () => {
    await expect(makeDirectory("/proc/weir-no-such-dir/x")).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("pathError", () => {
  it("is a non-retriable user error naming path, reason and fix when the path is at fault", () => {
    const e = pathError("X_UNWRITABLE", "create the x directory", "/p/q", errno("EROFS"), "pass a writable --x");
    expect(e).toMatchObject({ code: "X_UNWRITABLE", domain: "user", retriable: false });
    expect(e.message).toBe("cannot create the x directory /p/q: read-only file system (EROFS); pass a writable --x");
  });

  it("is a retriable external error otherwise (disk full, I/O error)", () => {
    const e = pathError("X_UNWRITABLE", "create the x directory", "/p/q", errno("ENOSPC"), "pass a writable --x");
    expect(e).toMatchObject({ code: "X_UNWRITABLE", domain: "external", retriable: true });
    expect(e.message).toBe("cannot create the x directory /p/q: ENOSPC: something");
  });
});
