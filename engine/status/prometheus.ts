/**
 * `/metrics` in Prometheus' text format (prom-client), read from a JobStatus at scrape time: a
 * scrape never touches the running subtasks, it reads the latest sample of their counters.
 *
 * Counters (`_total`) count from the start of the current attempt, as Flink's do, so they reset
 * when the job restarts (Prometheus' rate() handles a reset); `weir_job_restarts_total` counts
 * the restarts themselves. Labels: `job`, and per subtask `vertex` (the chain's operators, as
 * in the REST API's vertex name), `vertex_id` and `subtask`; per operator `operator`.
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { JobStatus, SubtaskView } from "./job-status.ts";

type Labels = Record<string, string | number>;

export const prometheusRegistry = (status: JobStatus, now: () => number): Registry => {
  const registry = new Registry();
  const job = status.name;
  const perSubtask = (f: (v: SubtaskView, labels: Labels) => void) => {
    for (const v of status.vertices) {
      for (const s of status.subtasks(v.index)) f(s, { job, vertex: v.name, vertex_id: v.id, subtask: s.metrics.subtask });
    }
  };
  const counter = (name: string, help: string, labelNames: string[], fill: (add: (labels: Labels, value: number) => void) => void) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill((labels, value) => this.inc(labels, Math.max(0, value)));
      },
    });
  const gauge = (name: string, help: string, labelNames: string[], fill: (set: (labels: Labels, value: number) => void) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill((labels, value) => this.set(labels, value));
      },
    });

  const subtaskLabels = ["job", "vertex", "vertex_id", "subtask"];
  counter("weir_task_records_in_total", "Records a subtask received from upstream (0 for sources)", subtaskLabels, (add) =>
    perSubtask((s, l) => add(l, s.metrics.recordsIn)),
  );
  counter("weir_task_records_out_total", "Records a subtask sent downstream", subtaskLabels, (add) => perSubtask((s, l) => add(l, s.metrics.recordsOut)));
  counter("weir_task_backpressured_seconds_total", "Time a subtask waited for room downstream", subtaskLabels, (add) =>
    perSubtask((s, l) => add(l, s.metrics.backpressuredMs / 1000)),
  );
  counter("weir_task_idle_seconds_total", "Time a subtask waited for input", subtaskLabels, (add) => perSubtask((s, l) => add(l, s.metrics.idleMs / 1000)));
  gauge("weir_task_records_out_per_second", "Records a subtask sent downstream per second, over the last sample interval", subtaskLabels, (set) =>
    perSubtask((s, l) => {
      if (s.recordsOutPerSecond !== undefined) set(l, s.recordsOutPerSecond);
    }),
  );
  gauge("weir_task_backpressured_ratio", "Share of the last sample interval a subtask was backpressured (0..1)", subtaskLabels, (set) =>
    perSubtask((s, l) => {
      if (s.backpressuredRatio !== undefined) set(l, s.backpressuredRatio);
    }),
  );
  gauge("weir_task_watermark_milliseconds", "The last watermark a subtask sent downstream (event time, ms since the epoch)", subtaskLabels, (set) =>
    perSubtask((s, l) => {
      if (Number.isFinite(s.metrics.watermark)) set(l, s.metrics.watermark);
    }),
  );
  gauge("weir_task_watermark_lag_seconds", "Wall-clock time minus a subtask's last watermark", subtaskLabels, (set) =>
    perSubtask((s, l) => {
      if (Number.isFinite(s.metrics.watermark)) set(l, (now() - s.metrics.watermark) / 1000);
    }),
  );

  gauge(
    "weir_source_lag_records",
    "Records between a source split's read position and its end as last seen (Kafka: consumer lag per partition)",
    [...subtaskLabels, "split"],
    (set) =>
      perSubtask((s, l) => {
        for (const [split, lag] of Object.entries(s.metrics.lag ?? {})) set({ ...l, split }, lag);
      }),
  );
  counter("weir_checkpoints_total", "Checkpoints by outcome (completed, failed)", ["job", "status"], (add) => {
    add({ job, status: "completed" }, status.counts.completed);
    add({ job, status: "failed" }, status.counts.failed);
  });
  gauge("weir_checkpoints_in_progress", "Checkpoints triggered and not yet completed or failed", ["job"], (set) => set({ job }, status.counts.inProgress));
  const last = () => status.lastCompleted?.completed;
  gauge("weir_checkpoint_last_duration_seconds", "Trigger to completion of the latest completed checkpoint", ["job"], (set) => {
    const c = last();
    if (c !== undefined) set({ job }, c.durationMs / 1000);
  });
  gauge("weir_checkpoint_last_size_bytes", "State size of the latest completed checkpoint", ["job"], (set) => {
    const c = last();
    if (c !== undefined) set({ job }, c.bytes);
  });
  gauge("weir_checkpoint_last_incremental_size_bytes", "Bytes new in the latest completed checkpoint", ["job"], (set) => {
    const c = last();
    if (c !== undefined) set({ job }, c.newBytes);
  });
  gauge("weir_checkpoint_last_id", "Id of the latest completed checkpoint", ["job"], (set) => {
    const c = last();
    if (c !== undefined) set({ job }, c.id);
  });
  gauge("weir_state_size_bytes", "Keyed state of an operator in the latest completed checkpoint", ["job", "operator"], (set) => {
    for (const [operator, bytes] of Object.entries(status.stateBytes)) set({ job, operator }, bytes);
  });

  counter("weir_job_restarts_total", "Restarts from the latest checkpoint after a failure", ["job"], (add) => add({ job }, status.restarts));
  gauge("weir_job_running", "1 while the job runs, 0 otherwise", ["job"], (set) => set({ job }, status.state === "RUNNING" ? 1 : 0));
  gauge("weir_job_uptime_seconds", "Time since the run started", ["job"], (set) =>
    set({ job }, ((status.isEnded ? status.endTime : now()) - status.startTime) / 1000),
  );
  counter("weir_source_records_total", "Records emitted by all source subtasks", ["job"], (add) => add({ job }, status.jobMetrics?.sourceRecords ?? 0));
  counter("weir_sink_records_total", "Records received by all sink subtasks", ["job"], (add) => add({ job }, status.jobMetrics?.sinkRecords ?? 0));
  counter("weir_state_cache_hits_total", "Keyed-state cells found in the cache", ["job"], (add) => add({ job }, status.jobMetrics?.stateCache.hits ?? 0));
  counter("weir_state_cache_misses_total", "Keyed-state cells read from the backend", ["job"], (add) => add({ job }, status.jobMetrics?.stateCache.misses ?? 0));
  return registry;
};
