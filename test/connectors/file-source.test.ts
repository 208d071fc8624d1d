/**
 * Specification of `fromFile`: a replayable line source whose split position is the byte offset
 * of the next unread line (connectors/source.ts holds the contract).
 */
import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { WeirError } from "../../common/errors.ts";
import { fromFile } from "../../connectors/file-source.ts";
import type { SourceContext, SplitReader } from "../../connectors/source.ts";

const context: SourceContext = { now: () => 0, jobName: "t", runId: "r" };

let root: string;
let fileCounter = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "weir-file-source-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes `content` to a fresh file under the temp root and returns its path. */
const fileWith = async (content: string | Buffer): Promise<string> => {
  const path = join(root, `input-${fileCounter++}.txt`);
  await writeFile(path, content);
  return path;
};

/** Reads until `end`, calling `read(max)` with the batch sizes in turn (cycled). */
const drain = async (reader: SplitReader<string, number>, sizes: readonly number[] = [1000]): Promise<string[]> => {
  const lines: string[] = [];
  for (let call = 0; ; call++) {
    const result = await reader.read(sizes[call % sizes.length] ?? 1);
    if (result.kind === "end") return lines;
    if (result.kind === "idle") throw new Error("a file source must never be idle");
    lines.push(...result.records);
  }
};

/** Opens the only split of `path` and reads it to the end. */
const readFile = async (path: string, options: { chunkBytes?: number; sizes?: number[] } = {}): Promise<string[]> => {
  const source = fromFile(path, options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes });
  const [split, ...rest] = await source.splits(context);
  expect(rest).toEqual([]);
  const reader = await source.openReader(split!, undefined, context);
  try {
    return await drain(reader, options.sizes);
  } finally {
    await reader.close();
  }
};

const expectWeirError = async (promise: Promise<unknown>, code: string): Promise<WeirError> => {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WeirError);
  const weir = error as WeirError;
  expect(weir.code).toBe(code);
  return weir;
};

describe("fromFile: lines", () => {
  test("is a bounded source named file-source unless named otherwise", () => {
    expect(fromFile("x").bounded).toBe(true);
    expect(fromFile("x").name).toBe("file-source");
    expect(fromFile("x", { name: "lines" }).name).toBe("lines");
  });

  test("emits the lines in order, removing \\n and a \\r before it", async () => {
    const path = await fileWith("first\nsecond\r\nthird\n");
    expect(await readFile(path)).toEqual(["first", "second", "third"]);
  });

  test("emits a last line that has no trailing newline", async () => {
    expect(await readFile(await fileWith("a\r\nb\nlast"))).toEqual(["a", "b", "last"]);
    expect(await readFile(await fileWith("only"))).toEqual(["only"]);
  });

  test("emits empty lines as empty strings, but no extra line after a final newline", async () => {
    expect(await readFile(await fileWith("\n\nx\n\n"))).toEqual(["", "", "x", ""]);
    expect(await readFile(await fileWith("\r\n\r\ny\r\n"))).toEqual(["", "", "y"]);
  });

  test("an empty file ends at once", async () => {
    expect(await readFile(await fileWith(""))).toEqual([]);
  });

  test("keeps a \\r that is not directly before \\n", async () => {
    expect(await readFile(await fileWith("a\rb\nc\r\r\nd\n"))).toEqual(["a\rb", "c\r", "d"]);
  });

  test("returns at most `max` lines per read", async () => {
    const path = await fileWith(Array.from({ length: 10 }, (_, i) => `line ${i}`).join("\n"));
    const source = fromFile(path, { chunkBytes: 4 });
    const reader = await source.openReader(path, undefined, context);
    const sizes: number[] = [];
    for (;;) {
      const result = await reader.read(3);
      if (result.kind !== "records") break;
      expect(result.records.length).toBeGreaterThan(0);
      expect(result.records.length).toBeLessThanOrEqual(3);
      sizes.push(result.records.length);
    }
    await reader.close();
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10);
  });

  test.each([0, -1, Number.NaN])(
    "chunkBytes %s never silently loses lines: it reads the file or is refused with a user WeirError",
    async (chunkBytes) => {
      const path = await fileWith("a\nb\n");
      const outcome = await readFile(path, { chunkBytes }).then(
        (lines) => ({ lines }),
        (error: unknown) => ({ error }),
      );
      if ("lines" in outcome) {
        expect(outcome.lines).toEqual(["a", "b"]);
      } else {
        expect(outcome.error).toBeInstanceOf(WeirError);
        expect((outcome.error as WeirError).domain).toBe("user");
      }
    },
  );

  test("decodes multi-byte UTF-8 characters that straddle a chunk boundary, for every small chunk size", async () => {
    // 2-, 3- and 4-byte characters at every alignment relative to chunks of 1..7 bytes.
    const lines = ["é", "aé", "aaé", "日本語", "x日y本z", "😀", "a😀b😀", "ü😀日é", "", "€uro €", "😀😀😀😀"];
    const path = await fileWith(`${lines.join("\r\n")}\n`);
    for (let chunkBytes = 1; chunkBytes <= 7; chunkBytes++) {
      expect(await readFile(path, { chunkBytes }), `chunkBytes ${chunkBytes}`).toEqual(lines);
      expect(await readFile(path, { chunkBytes, sizes: [1, 2] }), `chunkBytes ${chunkBytes}, small batches`).toEqual(lines);
    }
  });
});

describe("fromFile: positions", () => {
  test("position() is 0 before the first read, and the opened position after reopening", async () => {
    const path = await fileWith("abc\ndef\n");
    const source = fromFile(path);
    const fresh = await source.openReader(path, undefined, context);
    expect(fresh.position()).toBe(0);
    await fresh.close();
    const reopened = await source.openReader(path, 4, context);
    expect(reopened.position()).toBe(4);
    await reopened.close();
  });

  test("position() is the byte offset just after the last line returned", async () => {
    const lines = ["héllo", "", "日本", "end😀"];
    const path = await fileWith(`${lines[0]}\r\n${lines[1]}\n${lines[2]}\n${lines[3]}`);
    const reader = await fromFile(path, { chunkBytes: 3 }).openReader(path, undefined, context);
    const positions: number[] = [];
    for (;;) {
      const result = await reader.read(1);
      if (result.kind !== "records") break;
      positions.push(reader.position());
    }
    await reader.close();
    const b = (s: string) => Buffer.byteLength(s, "utf8");
    expect(positions).toEqual([
      b("héllo\r\n"),
      b("héllo\r\n\n"),
      b("héllo\r\n\n日本\n"),
      b("héllo\r\n\n日本\nend😀"),
    ]);
  });

  test("reopening at a reader's position continues with exactly the next line", async () => {
    const path = await fileWith("one\ntwo\r\nthree\nfour\nfive");
    const source = fromFile(path, { chunkBytes: 5 });
    const first = await source.openReader(path, undefined, context);
    const head = await first.read(2);
    const at = first.position();
    await first.close();
    expect(head).toEqual({ kind: "records", records: ["one", "two"] });
    const second = await source.openReader(path, at, context);
    expect(await drain(second, [2])).toEqual(["three", "four", "five"]);
    expect(second.position()).toBe(Buffer.byteLength("one\ntwo\r\nthree\nfour\nfive"));
    await second.close();
  });

  test("reopening at the end of the file ends at once", async () => {
    const content = "a\nb\n";
    const path = await fileWith(content);
    const reader = await fromFile(path).openReader(path, Buffer.byteLength(content), context);
    expect(await reader.read(10)).toEqual({ kind: "end" });
    await reader.close();
  });

  // Line content: no line breaks, but every kind of code point (1- to 4-byte UTF-8).
  const char = fc.oneof(
    fc.constantFrom("a", "Z", " ", "\t", "é", "€", "日", "😀", "\u{10FFFF}", "\r"),
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  );
  const line = fc.string({ unit: char, maxLength: 12 }).filter((s) => !s.includes("\n") && !s.endsWith("\r"));
  const text = fc
    .array(fc.record({ line, end: fc.constantFrom("\n", "\r\n") }), { maxLength: 25 })
    .chain((body) =>
      fc.record({ body: fc.constant(body), last: fc.option(line.filter((s) => s.length > 0), { nil: undefined }) }),
    );

  test("property: reading in pieces, stopping anywhere and reopening at position() equals reading straight through", async () => {
    await fc.assert(
      fc.asyncProperty(
        text,
        fc.integer({ min: 1, max: 16 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }),
        fc.nat({ max: 30 }),
        async ({ body, last }, chunkBytes, sizesBefore, sizesAfter, stopAfterReads) => {
          const content = body.map((l) => l.line + l.end).join("") + (last ?? "");
          const expected = [...body.map((l) => l.line), ...(last === undefined ? [] : [last])];
          const path = await fileWith(content);
          const source = fromFile(path, { chunkBytes });

          // Straight through, in one go.
          expect(await readFile(path, { chunkBytes: 64 * 1024 })).toEqual(expected);

          // In pieces: `stopAfterReads` reads, then close, reopen at position() and read the rest.
          const got: string[] = [];
          const first = await source.openReader(path, undefined, context);
          let ended = false;
          for (let call = 0; call < stopAfterReads; call++) {
            const result = await first.read(sizesBefore[call % sizesBefore.length]!);
            if (result.kind === "end") {
              ended = true;
              break;
            }
            if (result.kind === "records") got.push(...result.records);
            // The position is the byte offset just after the lines returned so far.
            const consumed = body.slice(0, got.length).map((l) => l.line + l.end).join("") + (got.length > body.length ? last ?? "" : "");
            expect(first.position()).toBe(Buffer.byteLength(consumed, "utf8"));
          }
          const position = first.position();
          await first.close();
          if (!ended) {
            const second = await source.openReader(path, position, context);
            got.push(...(await drain(second, sizesAfter)));
            await second.close();
          }
          expect(got).toEqual(expected);
          await unlink(path);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("fromFile: splits", () => {
  test("one path is one split; reading a split reads that file", async () => {
    const path = await fileWith("x\n");
    const source = fromFile(path);
    const splits = await source.splits(context);
    expect(splits).toHaveLength(1);
    const reader = await source.openReader(splits[0]!, undefined, context);
    expect(await drain(reader)).toEqual(["x"]);
    await reader.close();
  });

  test("a directory expands to its non-hidden regular files, one split each, sorted", async () => {
    const dir = join(root, "dir-input");
    await mkdir(join(dir, "sub"), { recursive: true });
    await writeFile(join(dir, "b.txt"), "b1\nb2\n");
    await writeFile(join(dir, "a.txt"), "a1\n");
    await writeFile(join(dir, "c.log"), "c1");
    await writeFile(join(dir, ".hidden"), "hidden\n");
    await writeFile(join(dir, "sub", "nested.txt"), "nested\n");
    await symlink(join(dir, "sub"), join(dir, "link-to-dir"));

    const source = fromFile(dir);
    const splits = await source.splits(context);
    expect(splits.map((s) => s.slice(s.lastIndexOf("/") + 1))).toEqual(["a.txt", "b.txt", "c.log"]);
    expect([...splits].sort()).toEqual(splits);

    const contents: string[][] = [];
    for (const split of splits) {
      const reader = await source.openReader(split, undefined, context);
      contents.push(await drain(reader));
      await reader.close();
    }
    expect(contents).toEqual([["a1"], ["b1", "b2"], ["c1"]]);
  });

  test("a list of paths gives the splits of all of them, sorted", async () => {
    const dir = join(root, "list-input");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "z.txt"), "z\n");
    await writeFile(join(dir, "m.txt"), "m\n");
    const single = join(root, "list-single.txt");
    await writeFile(single, "s\n");
    const splits = await fromFile([dir, single]).splits(context);
    expect(splits).toEqual([join(dir, "m.txt"), join(dir, "z.txt"), single].sort());
  });

  test("split ids are the same on every call (checkpoints refer to them)", async () => {
    const dir = join(root, "stable-input");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "1.txt"), "1\n");
    await writeFile(join(dir, "2.txt"), "2\n");
    const first = await fromFile(dir).splits(context);
    const second = await fromFile(dir).splits(context);
    expect(second).toEqual(first);
  });

  test("a missing input is a user error INPUT_NOT_FOUND naming the path", async () => {
    const missing = join(root, "no-such-dir", "no-such-file.txt");
    const error = await expectWeirError(Promise.resolve(fromFile(missing).splits(context)), "INPUT_NOT_FOUND");
    expect(error.domain).toBe("user");
    expect(error.retriable).toBe(false);
    expect(error.message).toContain(missing);
  });

  test("a missing path among several is reported by its own name", async () => {
    const present = await fileWith("here\n");
    const missing = join(root, "gone.txt");
    const error = await expectWeirError(Promise.resolve(fromFile([present, missing]).splits(context)), "INPUT_NOT_FOUND");
    expect(error.message).toContain(missing);
  });

  test("a split whose file vanished after listing fails to open with INPUT_NOT_FOUND naming it", async () => {
    const path = await fileWith("soon gone\n");
    const source = fromFile(path);
    const [split] = await source.splits(context);
    await unlink(path);
    const error = await expectWeirError(Promise.resolve(source.openReader(split!, undefined, context)), "INPUT_NOT_FOUND");
    expect(error.message).toContain(path);
  });
});
