/**
 * Pure pieces of `npm run bench:recovery`: a restart's timeline (WEIR_TIMELINE_FILE, see
 * engine/cli/timeline-file.ts) turned into the time to the first record and its breakdown, and
 * the medians with spread over repetitions.
 *
 * The phases partition the time from the spawn of the restarted `weir run` to its first record
 * (their sum is `total`, exactly):
 * - `startup`: process start and job load (spawn to `job-loaded`: Node, the TypeScript loader,
 *   importing the engine and the job, building its graph, taking the job lock);
 * - `checkpoint`: finding the latest checkpoint, reading its metadata and verifying every state
 *   file's size and SHA-256 (`job-loaded` to `checkpoint-chosen`);
 * - `claim`: the run's working folder, removing the killed run's (`checkpoint-chosen` to
 *   `run-folder-claimed`);
 * - `restore`: every keyed subtask's RocksDB restore (links at the same parallelism, a key-group
 *   range scan when rescaled), summed (subtasks restore one after another);
 * - `wiring`: sink start-up and the rest of the wiring (from `run-folder-claimed` to `started`,
 *   less `restore`);
 * - `firstBatch`: from the tasks' start to the first batch reaching a sink (source read at the
 *   restored position, the keyed operator's state reads from RocksDB, the sink).
 */
export interface TimelineMark {
  readonly phase: string;
  readonly at: number;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface Timeline {
  readonly processStart: number;
  readonly marks: readonly TimelineMark[];
}

export const PHASES = ["startup", "checkpoint", "claim", "restore", "wiring", "firstBatch"] as const;
export type Phase = (typeof PHASES)[number];

export type Breakdown = Readonly<Record<Phase | "total", number>> & {
  /** The checkpoint the run restored (`checkpoint-chosen`; 0: none). */
  readonly restoredId: number;
};

const lastAt = (marks: readonly TimelineMark[], phase: string, before = Infinity): TimelineMark => {
  let found: TimelineMark | undefined;
  for (const m of marks) if (m.phase === phase && m.at <= before) found = m;
  if (found === undefined) throw new Error(`the timeline has no '${phase}' mark`);
  return found;
};

/**
 * The breakdown of a restart spawned at `spawnAt` (epoch ms, same clock as the marks). Uses the
 * last attempt before the first record (a run that failed and restarted inside the process
 * marks each attempt). Throws if a phase is missing or the marks run backwards.
 */
export const breakdownOf = (spawnAt: number, timeline: Timeline): Breakdown => {
  const marks = timeline.marks;
  const first = lastAt(marks, "first-record");
  const started = lastAt(marks, "started", first.at);
  const loaded = lastAt(marks, "job-loaded", started.at);
  const chosen = lastAt(marks, "checkpoint-chosen", started.at);
  const claimed = lastAt(marks, "run-folder-claimed", started.at);
  const order = [spawnAt, loaded.at, chosen.at, claimed.at, started.at, first.at];
  for (let i = 1; i < order.length; i++) {
    if (order[i]! < order[i - 1]!) throw new Error(`timeline marks out of order: ${JSON.stringify(order)}`);
  }
  let restore = 0;
  const restoring = new Map<string, number>();
  for (const m of marks) {
    if (m.at < claimed.at || m.at > started.at) continue;
    const id = `${String(m.detail?.["operator"])}/${String(m.detail?.["subtask"])}`;
    if (m.phase === "state-restoring") restoring.set(id, m.at);
    if (m.phase === "state-restored") {
      const from = restoring.get(id);
      if (from === undefined) throw new Error(`'state-restored' of ${id} without 'state-restoring'`);
      restore += m.at - from;
      restoring.delete(id);
    }
  }
  return {
    startup: loaded.at - spawnAt,
    checkpoint: chosen.at - loaded.at,
    claim: claimed.at - chosen.at,
    restore,
    wiring: started.at - claimed.at - restore,
    firstBatch: first.at - started.at,
    total: first.at - spawnAt,
    restoredId: Number(chosen.detail?.["checkpoint"] ?? 0),
  };
};

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Median (the lower middle one of an even count: a value that occurred) with min and max. */
export const spreadOf = (xs: readonly number[]): Spread => {
  if (xs.length === 0) throw new Error("no values");
  const sorted = [...xs].sort((a, b) => a - b);
  return { median: sorted[Math.floor((sorted.length - 1) / 2)]!, min: sorted[0]!, max: sorted[sorted.length - 1]! };
};
