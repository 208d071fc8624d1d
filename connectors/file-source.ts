/**
 * A replayable, line-delimited file source. Each file is one split; a split's position is the
 * byte offset of its next unread line, so a reopened split continues at the next line.
 *
 * Lines end with `\n` (a trailing `\r` is removed); a last line without `\n` is still emitted.
 * Lines are decoded as UTF-8 one by one, so a multi-byte character is never cut at a chunk
 * boundary. A missing or unreadable file is a user error naming the path.
 */
import { open, readdir, stat, type FileHandle } from "node:fs/promises";
import { join, resolve } from "node:path";
import { userError } from "../common/errors.ts";
import { pathError } from "../common/path-errors.ts";
import type { ReadResult, Source, SplitReader } from "./source.ts";

export interface FileSourceOptions {
  /** Bytes read per system call (default 256 KiB). */
  readonly chunkBytes?: number;
  readonly name?: string;
}

const missing = (path: string, e: unknown) =>
  (e as NodeJS.ErrnoException).code === "ENOENT"
    ? userError("INPUT_NOT_FOUND", `input file not found: ${path}; check the path or the job's parameters`)
    : pathError("INPUT_UNREADABLE", "read input", path, e, "check the path or the job's parameters");

/** Expands the given paths: a directory stands for the regular files directly inside it. */
const listFiles = async (paths: readonly string[]): Promise<string[]> => {
  const files: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    let info;
    try {
      info = await stat(abs);
    } catch (e) {
      throw missing(p, e);
    }
    if (info.isDirectory()) {
      for (const entry of (await readdir(abs, { withFileTypes: true })).filter((d) => d.isFile() && !d.name.startsWith("."))) {
        files.push(join(abs, entry.name));
      }
    } else {
      files.push(abs);
    }
  }
  return files.sort();
};

class LineReader implements SplitReader<string, number> {
  private readonly handle: FileHandle;
  private readonly chunk: Buffer;
  /** Bytes read but not yet returned as lines, starting at file offset `offset`. */
  private pending: Buffer = Buffer.alloc(0);
  private offset: number;
  private eof = false;

  constructor(handle: FileHandle, offset: number, chunkBytes: number) {
    this.handle = handle;
    this.offset = offset;
    this.chunk = Buffer.allocUnsafe(chunkBytes);
  }

  async read(max: number): Promise<ReadResult<string>> {
    const lines: string[] = [];
    while (lines.length < max) {
      const nl = this.pending.indexOf(10);
      if (nl >= 0) {
        const end = nl > 0 && this.pending[nl - 1] === 13 ? nl - 1 : nl;
        lines.push(this.pending.toString("utf8", 0, end));
        this.pending = this.pending.subarray(nl + 1);
        this.offset += nl + 1;
        continue;
      }
      if (this.eof) {
        if (this.pending.length > 0) {
          lines.push(this.pending.toString("utf8"));
          this.offset += this.pending.length;
          this.pending = Buffer.alloc(0);
        }
        break;
      }
      if (lines.length > 0 && this.pending.length === 0) break; // return what we have before doing I/O
      const { bytesRead } = await this.handle.read(this.chunk, 0, this.chunk.length, this.offset + this.pending.length);
      if (bytesRead === 0) this.eof = true;
      else this.pending = Buffer.concat([this.pending, this.chunk.subarray(0, bytesRead)]);
    }
    if (lines.length === 0) return { kind: "end" };
    return { kind: "records", records: lines };
  }

  position(): number {
    return this.offset;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Reads lines from files (a path, a list of paths, or directories of files). */
export const fromFile = (paths: string | readonly string[], options: FileSourceOptions = {}): Source<string, number> => {
  const list = typeof paths === "string" ? [paths] : paths;
  const name = options.name ?? "file-source";
  const chunkBytes = options.chunkBytes ?? 256 * 1024;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) {
    throw userError("BAD_SOURCE_OPTIONS", `file source '${name}': chunkBytes must be a positive integer, got ${chunkBytes}`);
  }
  return {
    name,
    bounded: true,
    splits: () => listFiles(list),
    async openReader(split, position) {
      let handle: FileHandle;
      try {
        handle = await open(split, "r");
      } catch (e) {
        throw missing(split, e);
      }
      return new LineReader(handle, position ?? 0, chunkBytes);
    },
  };
};
