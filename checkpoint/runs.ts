/**
 * The runs log: one small file per `weir run` of a job, `<root>/<job>/runs/<runId>.json`,
 * written (and fsynced) before any sink writer exists. Recovery uses it to find what earlier runs
 * may have left open outside the checkpoints (e.g. Kafka transactions of a killed run); once a
 * recovery has cleaned up after a run, the run is marked `cleaned` and not looked at again.
 * `--fresh` keeps this folder, so even a fresh start cleans up after killed runs.
 */
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../common/write-file-atomic.ts";
import { jobRoot } from "./storage.ts";

export interface RunRecord {
  readonly runId: string;
  readonly startedAt: number;
  /** Parallelism of each sink operator in that run. */
  readonly sinkParallelism: Readonly<Record<string, number>>;
  readonly cleaned: boolean;
}

const runsDir = (root: string, job: string) => join(jobRoot(root, job), "runs");

const writeRecord = async (root: string, job: string, record: RunRecord): Promise<void> => {
  const dir = runsDir(root, job);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, `${record.runId}.json`), JSON.stringify(record));
};

export const recordRun = (root: string, job: string, record: Omit<RunRecord, "cleaned">): Promise<void> =>
  writeRecord(root, job, { ...record, cleaned: false });

/** Every recorded run of the job, oldest first. */
export const allRuns = async (root: string, job: string): Promise<RunRecord[]> => {
  const dir = runsDir(root, job);
  const names = await readdir(dir).catch(() => [] as string[]);
  const runs: RunRecord[] = [];
  for (const name of names.filter((n) => n.endsWith(".json"))) {
    try {
      runs.push(JSON.parse(await readFile(join(dir, name), "utf8")) as RunRecord);
    } catch {
      // A torn record can only come from a run killed before it created any sink writer.
    }
  }
  return runs.sort((a, b) => a.startedAt - b.startedAt);
};

/** Earlier runs not yet cleaned up after, oldest first. */
export const uncleanedRuns = async (root: string, job: string, exceptRunId: string): Promise<RunRecord[]> =>
  (await allRuns(root, job)).filter((r) => !r.cleaned && r.runId !== exceptRunId);

export const markCleaned = async (root: string, job: string, runs: readonly RunRecord[]): Promise<void> => {
  for (const run of runs) await writeRecord(root, job, { ...run, cleaned: true });
};
