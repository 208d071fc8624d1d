/**
 * A file sink: one JSON object per line, in part files under an output directory, committed in
 * two phases so readers only ever see complete, committed files. File names: file-sink-names.ts.
 *
 * Per subtask, records go to a hidden in-progress file (rolled over at `maxPartBytes`).
 * `preCommit(n)` flushes and fsyncs it and renames it to a hidden pending file named by checkpoint
 * n; its committable names the pending and the final file. `commit` renames pending to the final
 * `part-...-chk<n>.jsonl` and fsyncs the directory; it is idempotent (a pending file already gone
 * with its final file present counts as committed; both gone is a user error: the output
 * directory was changed behind the job's back).
 *
 * Contract for readers: the committed part files are exactly the files in the directory whose
 * names do not start with a dot. One live run per output directory (`claim`, a pid lock file).
 * Recovery commits the restored checkpoint's pending files and deletes the hidden part files of
 * the job's earlier runs; files of other jobs are left alone. `retract(n)` deletes the part files
 * the job's runs committed under checkpoints after n.
 */
import { open, readdir, readFile, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { externalError, describeError, isWeirError, userError } from "../common/errors.ts";
import { fsyncPath } from "../common/fsync.ts";
import { makeDirectory, pathError } from "../common/path-errors.ts";
import { takePidLock } from "../common/pid-lock.ts";
import { OUTPUT_LOCK, committedName, committedWriteOrder, inProgressName, parsePartName, pendingName } from "./file-sink-names.ts";
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


/**
 * Renames each pending file to its final name; a pending file already gone with its final file
 * present counts as committed. Both gone: the output was removed after the job wrote it (a user
 * error naming the file, not retried).
 */
const commitFiles = async (committables: readonly FileCommittable[]): Promise<void> => {
  for (const c of committables) {
    try {
      await rename(c.pending, c.final);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
        throw externalError("FILE_SINK_COMMIT_FAILED", `cannot commit ${c.final}: ${describeError(e)}`, { cause: e });
      }
      if (await exists(c.final)) continue;
      throw userError(
        "FILE_SINK_OUTPUT_MISSING",
        `cannot commit ${c.final}: neither it nor its pending file ${basename(c.pending)} exists (the output directory ${dirname(c.final)} was changed after the job wrote it); run with --fresh to write the output again`,
      );
    }
  }
  for (const d of new Set(committables.map((c) => dirname(c.final)))) {
    try {
      await fsyncPath(d);
    } catch (e) {
      throw externalError("FILE_SINK_COMMIT_FAILED", `cannot make the commit in ${d} durable: ${describeError(e)}`, { cause: e });
    }
  }
};

class FileSinkWriter<T> implements SinkWriter<T, FileCommittable> {
  private readonly dir: string;
  private readonly context: SinkContext;
  private readonly maxPartBytes: number;
  private readonly encode: (record: T) => string;
  private partCounter = 0;
  private current: { handle: FileHandle; path: string; bytes: number; n: number } | undefined;
  /** Parts closed by rollover in the current transaction, awaiting preCommit. */
  private closed: { path: string; n: number }[] = [];
  /** preCommit takes the transaction's parts when called; fsync and renames follow asynchronously. */
  readonly cutsOnCall = true;

  constructor(dir: string, context: SinkContext, options: FileSinkOptions<T>) {
    this.dir = dir;
    this.context = context;
    this.maxPartBytes = options.maxPartBytes ?? 64 * 1024 * 1024;
    this.encode = options.encode ?? ((r: T) => JSON.stringify(r));
  }

  async write(records: readonly T[]): Promise<void> {
    let text = "";
    for (const r of records) text += `${this.encode(r)}\n`;
    if (this.current === undefined) {
      const n = this.partCounter++;
      const path = join(this.dir, inProgressName(this.context.runId, this.context.subtask, n));
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

  preCommit(checkpointId: number): Promise<readonly FileCommittable[]> {
    // The cut: the transaction's parts are taken now; later writes open a new part.
    const current = this.current;
    const parts = this.closed;
    this.current = undefined;
    this.closed = [];
    return this.prepare(checkpointId, current, parts);
  }

  private async prepare(
    checkpointId: number,
    current: { handle: FileHandle; path: string; n: number } | undefined,
    parts: { path: string; n: number }[],
  ): Promise<readonly FileCommittable[]> {
    if (current !== undefined) {
      await current.handle.sync();
      await current.handle.close();
      parts.push({ path: current.path, n: current.n });
    }
    const committables: FileCommittable[] = [];
    const { runId, subtask } = this.context;
    for (const part of parts) {
      const pending = join(this.dir, pendingName(runId, subtask, part.n, checkpointId));
      await rename(part.path, pending);
      committables.push({ pending, final: join(this.dir, committedName(runId, subtask, part.n, checkpointId)) });
    }
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

const createDir = async (abs: string): Promise<void> => {
  await makeDirectory(abs).catch((e: unknown) => {
    throw unusableOutput("create", abs, e);
  });
};

const listDir = (abs: string): Promise<string[]> => readdir(abs).catch(() => [] as string[]);

/** Writes records as JSON lines into part files under `dir` (created if missing). */
export const toFiles = <T>(dir: string, options: FileSinkOptions<T> = {}): Sink<T, FileCommittable> => ({
  name: options.name ?? "file-sink",
  async createWriter(context) {
    const abs = resolve(dir);
    await createDir(abs);
    return new FileSinkWriter<T>(abs, context, options);
  },
  async claim(context) {
    const abs = resolve(dir);
    const named = (e: unknown) => (isWeirError(e) ? e.withContext({ operator: context.operatorName }) : e);
    await createDir(abs).catch((e: unknown) => {
      throw named(e);
    });
    const lock = join(abs, OUTPUT_LOCK);
    const result = await takePidLock(lock, { job: context.jobName, runId: context.runId, checkpoints: context.checkpointDir }).catch((e: unknown) => {
      throw named(unusableOutput("write to", abs, e));
    });
    if (result.kind === "taken") return result;
    const { pid, details } = result.holder;
    const other = `job '${String(details["job"] ?? "?")}' (pid ${pid}, checkpoints ${String(details["checkpoints"] ?? "?")})`;
    throw userError(
      "OUTPUT_DIR_IN_USE",
      `output directory ${abs} is being written by another run: ${other}; two runs cannot share an output directory: let it finish or stop it, or give this run another output directory`,
      { operator: context.operatorName },
    );
  },
  async recover(committables, context) {
    const abs = resolve(dir);
    await commitFiles(committables);
    // Hidden part files of the job's earlier runs are transactions nobody will commit now; other
    // runs' files (another job writing here, or a live writer) are not ours to delete.
    const earlier = new Set(context.previousRuns.map((r) => r.runId));
    const lingering = (await listDir(abs)).filter((n) => {
      const part = parsePartName(n);
      return part !== undefined && part.kind !== "committed" && earlier.has(part.runId);
    });
    for (const name of lingering) await rm(join(abs, name), { force: true });
    if (lingering.length > 0) await fsyncPath(abs);
  },
  async retract(afterCheckpoint, context) {
    const abs = resolve(dir);
    const runs = new Set(context.runIds);
    const victims: string[] = [];
    const checkpoints = new Set<number>();
    for (const name of await listDir(abs)) {
      const part = parsePartName(name);
      if (part === undefined || part.kind !== "committed" || !runs.has(part.runId)) continue;
      // A file of an earlier version (no checkpoint in its name) is only retracted with everything.
      if (part.checkpoint === undefined ? afterCheckpoint > 0 : part.checkpoint <= afterCheckpoint) continue;
      victims.push(name);
      if (part.checkpoint !== undefined) checkpoints.add(part.checkpoint);
    }
    if (!context.dryRun && victims.length > 0) {
      for (const name of victims) await rm(join(abs, name), { force: true });
      await fsyncPath(abs);
    }
    return { removed: victims.length, checkpoints: [...checkpoints].sort((a, b) => a - b), location: abs, unit: "part files" };
  },
  async readCommitted() {
    if (options.encode !== undefined) return undefined; // lines of a custom encoder cannot be decoded
    const abs = resolve(dir);
    const names = (await listDir(abs)).filter((n) => parsePartName(n)?.kind === "committed").sort(committedWriteOrder);
    const records: unknown[] = [];
    for (const name of names) {
      for (const line of (await readFile(join(abs, name), "utf8")).split("\n")) if (line !== "") records.push(JSON.parse(line));
    }
    return records;
  },
});
