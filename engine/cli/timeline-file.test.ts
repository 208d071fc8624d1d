import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { newJobMetrics } from "../metrics.ts";
import { startTimeline, type TimelineFile } from "./timeline-file.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-timeline-"));
  dirs.push(dir);
  return join(dir, "timeline.json");
};

describe("WEIR_TIMELINE_FILE", () => {
  it("unset or empty: no timeline, the metrics stay plain", () => {
    expect(startTimeline(undefined, () => undefined)).toBeUndefined();
    expect(startTimeline("", () => undefined)).toBeUndefined();
  });

  it("writes the marks once, when the first record reaches a sink, and puts the plain counter back", () => {
    const path = tempFile();
    const timeline = startTimeline(path, () => undefined)!;
    const metrics = newJobMetrics(0);
    timeline.mark("job-loaded");
    timeline.mark("checkpoint-chosen", { checkpoint: 3 });
    timeline.watchFirstRecord(metrics);
    metrics.sinkRecords += 0;
    expect(existsSync(path)).toBe(false);
    metrics.sinkRecords += 5;
    const file = JSON.parse(readFileSync(path, "utf8")) as TimelineFile;
    expect(file.marks.map((m) => m.phase)).toEqual(["job-loaded", "checkpoint-chosen", "first-record"]);
    expect(file.marks[1]!.detail).toEqual({ checkpoint: 3 });
    const ats = file.marks.map((m) => m.at);
    expect([...ats].sort((a, b) => a - b)).toEqual(ats);
    expect(file.processStart).toBeLessThanOrEqual(ats[0]!);
    expect(Object.getOwnPropertyDescriptor(metrics, "sinkRecords")).toMatchObject({ value: 5, writable: true });
    metrics.sinkRecords += 2;
    timeline.mark("later");
    timeline.watchFirstRecord(metrics);
    expect(metrics.sinkRecords).toBe(7);
    expect((JSON.parse(readFileSync(path, "utf8")) as TimelineFile).marks).toHaveLength(3);
    expect(existsSync(`${path}.tmp`)).toBe(false);
  });

  it("a file that cannot be written is reported and does not throw", () => {
    const lines: string[] = [];
    const timeline = startTimeline(join(tempFile(), "no-such-dir", "t.json"), (l) => lines.push(l))!;
    const metrics = newJobMetrics(0);
    timeline.watchFirstRecord(metrics);
    metrics.sinkRecords += 1;
    expect(metrics.sinkRecords).toBe(1);
    expect(lines).toEqual([expect.stringMatching(/could not write WEIR_TIMELINE_FILE/)]);
  });
});
