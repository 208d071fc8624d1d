/**
 * Names of the file sink's files in an output directory. Every name carries the run that wrote
 * it, so recovery and retraction touch only files of the job's own runs; committed and pending
 * names also carry the checkpoint at whose barrier the file was pre-committed (all its records
 * precede that barrier), so a restore of an older checkpoint knows which files to retract.
 *
 * - in progress: `.part-<run>-<subtask>-<n>.inprogress`
 * - pending:     `.part-<run>-<subtask>-<n>-chk<checkpoint>.pending`
 * - committed:   `part-<run>-<subtask>-<n>-chk<checkpoint>.jsonl`
 *   (committed files of earlier versions have no `-chk<checkpoint>`)
 * - the output directory's lock: `.weir-output.lock`
 */
export const OUTPUT_LOCK = ".weir-output.lock";

export type PartKind = "inprogress" | "pending" | "committed";

export interface PartName {
  readonly kind: PartKind;
  readonly runId: string;
  readonly subtask: number;
  readonly n: number;
  /** Undefined for in-progress files (and committed files of earlier versions). */
  readonly checkpoint: number | undefined;
}

const base = (runId: string, subtask: number, n: number) => `part-${runId}-${subtask}-${n}`;

export const inProgressName = (runId: string, subtask: number, n: number): string => `.${base(runId, subtask, n)}.inprogress`;
export const pendingName = (runId: string, subtask: number, n: number, checkpoint: number): string =>
  `.${base(runId, subtask, n)}-chk${checkpoint}.pending`;
export const committedName = (runId: string, subtask: number, n: number, checkpoint: number): string =>
  `${base(runId, subtask, n)}-chk${checkpoint}.jsonl`;

const PART = /^(\.?)part-(.+)-(\d+)-(\d+)(?:-chk(\d+))?\.(jsonl|pending|inprogress)$/;

/** Parses a file name of this sink; undefined for any other file. */
export const parsePartName = (name: string): PartName | undefined => {
  const m = PART.exec(name);
  if (m === null) return undefined;
  const hidden = m[1] === ".";
  const ext = m[6]!;
  const kind: PartKind | undefined =
    !hidden && ext === "jsonl" ? "committed" : hidden && ext === "pending" ? "pending" : hidden && ext === "inprogress" ? "inprogress" : undefined;
  if (kind === undefined) return undefined;
  return { kind, runId: m[2]!, subtask: Number(m[3]), n: Number(m[4]), checkpoint: m[5] === undefined ? undefined : Number(m[5]) };
};

/**
 * Orders committed part file names as they were written: by run (run ids grow with time), then
 * part number, then subtask. Names of other files sort last, by name.
 */
export const committedWriteOrder = (a: string, b: string): number => {
  const x = parsePartName(a);
  const y = parsePartName(b);
  if (x === undefined || y === undefined) return (x === undefined ? 1 : 0) - (y === undefined ? 1 : 0) || a.localeCompare(b);
  return x.runId.length - y.runId.length || x.runId.localeCompare(y.runId) || x.n - y.n || x.subtask - y.subtask;
};
