/**
 * `weir checkpoints list --job <name>` and `weir checkpoints inspect <path>`: what can be
 * resumed, and what a checkpoint holds.
 */
import { join } from "node:path";
import { formatDuration } from "../../common/duration.ts";
import { snapshotBase, summarize, type CheckpointMetadata } from "../../checkpoint/metadata.ts";
import { checkpointPath, listCheckpointIds, loadCheckpoint, readMetadata, verifyFiles } from "../../checkpoint/storage.ts";
import { describeError } from "../../common/errors.ts";
import { describeSignature } from "../../state/state-signature.ts";
import { describeBroadcastStates } from "../../state/broadcast-state.ts";

export const formatBytes = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(2)} GiB`;

const positionsLine = (positions: Record<string, Record<string, unknown>>): string =>
  Object.entries(positions)
    .map(([op, splits]) => `${op}: ${Object.entries(splits).map(([s, p]) => `${s}=${JSON.stringify(p)}`).join(" ")}`)
    .join("; ");

export const listCheckpoints = async (root: string, job: string, write: (line: string) => void): Promise<void> => {
  const ids = await listCheckpointIds(root, job);
  if (ids.length === 0) {
    write(`no checkpoints of job '${job}' under ${root}`);
    return;
  }
  write(["id", "completed", "size", "new", "duration", "final", "source positions"].join("\t"));
  for (const id of ids) {
    const dir = checkpointPath(root, job, id);
    try {
      // Sizes only: a listing must stay fast; a restore (and inspect) verifies the checksums.
      const { metadata } = await loadCheckpoint(dir, "sizes");
      const s = summarize(metadata);
      write(
        [
          id,
          new Date(metadata.completedAt).toISOString(),
          formatBytes(s.bytes),
          formatBytes(s.newBytes),
          formatDuration(s.durationMs),
          metadata.final ? "yes" : "no",
          positionsLine(s.positions),
        ].join("\t"),
      );
    } catch (e) {
      write(`${id}\t(not resumable: ${describeError(e)})`);
    }
  }
};

export const inspectCheckpoint = async (path: string, write: (line: string) => void): Promise<void> => {
  const metadata: CheckpointMetadata = await readMetadata(path);
  const s = summarize(metadata);
  write(
    metadata.savepoint === undefined
      ? `checkpoint ${metadata.id} of job '${metadata.job}'${metadata.final ? " (final)" : ""}`
      : `savepoint of job '${metadata.job}' (checkpoint ${metadata.id}${metadata.final ? ", final" : ""}), made ${new Date(metadata.savepoint.createdAt).toISOString()}`,
  );
  write(`  triggered ${new Date(metadata.timestamp).toISOString()}, completed in ${formatDuration(s.durationMs)}`);
  write(`  state ${formatBytes(s.bytes)} (${formatBytes(s.newBytes)} new since the previous checkpoint), maxParallelism ${metadata.maxParallelism}`);
  for (const t of metadata.tasks) {
    const stall = t.syncMs === undefined ? "" : `; synchronous part ${t.syncMs} ms, asynchronous part held the thread ${t.asyncBlockingMs ?? 0} ms`;
    write(`  task ${t.task}: acknowledged after ${formatDuration(t.durationMs)}${stall}`);
  }
  write("keyed state:");
  const keyed = metadata.tasks.flatMap((t) => t.keyed).sort((a, b) => a.operator.localeCompare(b.operator) || a.subtask - b.subtask);
  if (keyed.length === 0) write("  (none)");
  for (const k of keyed) {
    write(
      `  ${k.operator}[${k.subtask}/${k.parallelism}] key groups ${k.handle.keyGroups.start}-${k.handle.keyGroups.end}: ${formatBytes(k.handle.bytes)} in ${k.handle.files} files (${k.handle.backend}, ${join(snapshotBase(metadata, path), k.handle.path)})`,
    );
    if (k.states !== undefined) write(`    states: ${k.states.map((s) => `${s.name} (${describeSignature(s)})`).join(", ")}`);
    if (k.keyTypes !== undefined) write(`    keys: ${k.keyTypes.length === 0 ? "(none yet)" : k.keyTypes.join(", ")}; values: msgpack`);
    for (const f of k.handle.contents ?? []) write(`    ${f.name} ${f.size} B sha256 ${f.sha256}`);
  }
  const broadcast = metadata.tasks.flatMap((t) => t.broadcast ?? []);
  if (broadcast.length > 0) write("broadcast state (one copy, restored into every subtask):");
  for (const b of broadcast) {
    const states = describeBroadcastStates(b.states).map((d) => `${d.name} (${d.entries} entries, ${formatBytes(d.bytes)})`);
    write(`  ${b.operator}[${b.subtask}]: ${states.join(", ") || "(no states)"}`);
  }
  const verified = await verifyFiles(path, metadata).then(
    () => (metadata.format === 1 ? "present (format 1: no checksums recorded)" : "sizes and checksums verified"),
    (e: unknown) => `DAMAGED: ${describeError(e)}`,
  );
  write(`state files: ${verified}`);
  write("source positions:");
  for (const [op, splits] of Object.entries(s.positions)) {
    for (const [split, position] of Object.entries(splits)) write(`  ${op} ${split}: ${JSON.stringify(position)}`);
  }
  write(`pending sink transactions: ${s.pendingTransactions}`);
  for (const t of metadata.tasks) {
    for (const sink of t.sinks) {
      for (const c of sink.committables) write(`  ${sink.operator}[${sink.subtask}]: ${JSON.stringify(c)}`);
    }
  }
};
