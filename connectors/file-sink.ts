/**
 * A file sink: one JSON object per line, in part files under an output directory, committed in
 * two phases so readers only ever see complete, committed files.
 *
 * Per subtask, records go to a hidden in-progress file `.part-<run>-<subtask>-<n>.inprogress`
 * (rolled over at `maxPartBytes`). `preCommit` flushes and fsyncs it and renames it to a hidden
 * `.pending` file; its committable names the pending and the final file. `commit` renames
 * pending to `part-<run>-<subtask>-<n>.jsonl` and fsyncs the directory; it is idempotent (a
 * pending file already gone with its final file present counts as committed).
 *
 * Contract for readers: the committed part files are exactly the files in the directory whose
 * names do not start with a dot. Recovery commits the restored checkpoint's pending files and
 * deletes every other hidden part file (one job per output directory).
 */
import { open, readdir, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { externalError, describeError } from "../common/errors.ts";
import { fsyncPath } from "../common/fsync.ts";
import { makeDirectory, pathError } from "../common/path-errors.ts";
import type { Sink, SinkContext, SinkWriter } from "./sink.ts";

export interface FileSinkOptions<T> {
  /** Bytes after which a part file is closed and a new one begun (default 64 MiB). */
  readonly maxPartBytes?: number;
  /** Line encoder (default JSON.stringify). */
  readonly encode?: (record: T) => string;
  readonly name?: string;
}

export interface FileCommittable {
  readonly pending: string;
  readonly final: string;
}

/** The output directory cannot be used: a user error naming it when the path is at fault. */
const unusableOutput = (action: "create" | "write to", dir: string, e: unknown) =>
  pathError("OUTPUT_DIR_UNWRITABLE", `${action} the output directory`, dir, e, "give the sink a writable directory");

const exists = async (path: string) => {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
};


/** Renames each pending file to its final name; a pending file already gone with its final file present counts as committed. */
const commitFiles = async (committables: readonly FileCommittable[]): Promise<void> => {
  for (const c of committables) {
    try {
      await rename(c.pending, c.final);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT" && (await exists(c.final))) continue;
      throw externalError("FILE_SINK_COMMIT_FAILED", `cannot commit ${c.final}: ${describeError(e)}`, { cause: e });
    }
  }
  for (const d of new Set(committables.map((c) => dirname(c.final)))) await fsyncPath(d);
};

/** Hidden part files (in progress or pending) a crashed run left behind. */
const LINGERING = /^\.part-.*\.(inprogress|pending)$/;

class FileSinkWriter<T> implements SinkWriter<T, FileCommittable> {
  private readonly dir: string;
  private readonly context: SinkContext;
  private readonly maxPartBytes: number;
  private readonly encode: (record: T) => string;
  private partCounter = 0;
  private current: { handle: FileHandle; path: string; bytes: number; n: number } | undefined;
  /** Parts closed by rollover in the current transaction, awaiting preCommit. */
  private closed: { path: string; n: number }[] = [];

  constructor(dir: string, context: SinkContext, options: FileSinkOptions<T>) {
    this.dir = dir;
    this.context = context;
    this.maxPartBytes = options.maxPartBytes ?? 64 * 1024 * 1024;
    this.encode = options.encode ?? ((r: T) => JSON.stringify(r));
  }

  private baseName(n: number): string {
    return `part-${this.context.runId}-${this.context.subtask}-${n}`;
  }

  async write(records: readonly T[]): Promise<void> {
    let text = "";
    for (const r of records) text += `${this.encode(r)}\n`;
    if (this.current === undefined) {
      const n = this.partCounter++;
      const path = join(this.dir, `.${this.baseName(n)}.inprogress`);
      const handle = await open(path, "wx").catch((e: unknown) => {
        throw unusableOutput("write to", this.dir, e);
      });
      this.current = { handle, path, bytes: 0, n };
    }
    const bytes = Buffer.from(text, "utf8");
    await this.current.handle.write(bytes);
    this.current.bytes += bytes.length;
    if (this.current.bytes >= this.maxPartBytes) await this.closeCurrent();
  }

  private async closeCurrent(): Promise<void> {
    const part = this.current;
    if (part === undefined) return;
    this.current = undefined;
    await part.handle.sync();
    await part.handle.close();
    this.closed.push({ path: part.path, n: part.n });
  }

  async preCommit(): Promise<readonly FileCommittable[]> {
    await this.closeCurrent();
    const committables: FileCommittable[] = [];
    for (const part of this.closed) {
      const pending = join(this.dir, `.${this.baseName(part.n)}.pending`);
      await rename(part.path, pending);
      committables.push({ pending, final: join(this.dir, `${this.baseName(part.n)}.jsonl`) });
    }
    this.closed = [];
    if (committables.length > 0) await fsyncPath(this.dir);
    return committables;
  }

  commit(committables: readonly FileCommittable[]): Promise<void> {
    return commitFiles(committables);
  }

  async close(): Promise<void> {
    const part = this.current;
    this.current = undefined;
    await part?.handle.close();
  }
}

/** Writes records as JSON lines into part files under `dir` (created if missing). */
export const toFiles = <T>(dir: string, options: FileSinkOptions<T> = {}): Sink<T, FileCommittable> => ({
  name: options.name ?? "file-sink",
  async createWriter(context) {
    const abs = resolve(dir);
    await makeDirectory(abs).catch((e: unknown) => {
      throw unusableOutput("create", abs, e);
    });
    return new FileSinkWriter<T>(abs, context, options);
  },
  async recover(committables) {
    const abs = resolve(dir);
    await commitFiles(committables);
    let names: string[];
    try {
      names = await readdir(abs);
    } catch {
      return; // no output directory yet: nothing to commit or clean
    }
    const lingering = names.filter((n) => LINGERING.test(n));
    for (const name of lingering) await rm(join(abs, name), { force: true });
    if (lingering.length > 0) await fsyncPath(abs);
  },
});
