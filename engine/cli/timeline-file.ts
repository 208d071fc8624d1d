/**
 * `WEIR_TIMELINE_FILE=<path>`: a run notes when it reaches each start-up phase (job loaded,
 * checkpoint chosen, working state claimed, sinks started, keyed state restored per subtask, tasks
 * started) and, the moment its first record reaches a sink, writes them to <path> as JSON
 * (`TimelineFile`), synchronously, once, and atomically (written beside it, then renamed). What `npm run bench:recovery` reads to time a restart
 * and break it down. Unset: `startTimeline` returns undefined and nothing is noted or installed.
 *
 * Times are epoch milliseconds with fractions (`performance.timeOrigin + performance.now()`), so
 * another process on the same machine can compare them with its own clock read the same way.
 * A write that fails is reported once on `log` and otherwise ignored: it never fails the job.
 */
import { renameSync, writeFileSync } from "node:fs";
import type { JobMetrics } from "../metrics.ts";

export interface TimelineMark {
  readonly phase: string;
  readonly at: number;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export interface TimelineFile {
  /** When this process started (`performance.timeOrigin`). */
  readonly processStart: number;
  readonly marks: readonly TimelineMark[];
}

export interface Timeline {
  mark(phase: string, detail?: Readonly<Record<string, string | number | boolean>>): void;
  /**
   * Marks `first-record` and writes the file when `metrics.sinkRecords` first grows. Call it
   * before any record flows (the runtime's `onStart`): it replaces the counter by an accessor
   * until then, and puts the plain property back once it fired.
   */
  watchFirstRecord(metrics: JobMetrics): void;
}

export const epochNow = (): number => performance.timeOrigin + performance.now();

export const startTimeline = (path: string | undefined, log: (line: string) => void): Timeline | undefined => {
  if (path === undefined || path === "") return undefined;
  const marks: TimelineMark[] = [];
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    const body: TimelineFile = { processStart: performance.timeOrigin, marks };
    try {
      // Renamed into place: a reader polling for <path> never sees it half written.
      writeFileSync(`${path}.tmp`, JSON.stringify(body));
      renameSync(`${path}.tmp`, path);
    } catch (e) {
      log(`could not write WEIR_TIMELINE_FILE ${path}: ${(e as Error).message}`);
    }
  };
  return {
    mark(phase, detail) {
      marks.push(detail === undefined ? { phase, at: epochNow() } : { phase, at: epochNow(), detail });
    },
    watchFirstRecord(metrics) {
      if (written) return;
      let value = metrics.sinkRecords;
      Object.defineProperty(metrics, "sinkRecords", {
        configurable: true,
        enumerable: true,
        get: () => value,
        set: (next: number) => {
          value = next;
          if (next === 0) return;
          Object.defineProperty(metrics, "sinkRecords", { value: next, writable: true, configurable: true, enumerable: true });
          marks.push({ phase: "first-record", at: epochNow() });
          write();
        },
      });
    },
  };
};
