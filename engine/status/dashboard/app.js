// Weir's dashboard: one job, read from the REST API once a second (the same endpoints a Flink
// tool reads). No build step: plain ES modules, Preact + htm from the htm package (vendored at
// /ui/vendor/htm-preact.js). Elements tests read carry data-testid attributes.
import { html, render, useEffect, useState } from "/ui/vendor/htm-preact.js";

const POLL_MS = 1000;
const fmt = (n) => (n === null || n === undefined ? "–" : Math.round(n).toLocaleString("en-US"));
const bytes = (n) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);
const ms = (n) =>
  n === null || n === undefined || n < 0
    ? "–"
    : n >= 2 * 86_400_000
      ? `${Math.round(n / 86_400_000).toLocaleString("en-US")} days`
      : n >= 10_000
        ? `${(n / 1000).toFixed(1)} s`
        : `${Math.round(n)} ms`;
const time = (t) => (t > 0 ? new Date(t).toISOString().slice(11, 23) : "–");
const duration = (t) => {
  const s = Math.floor(t / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
};

const getJson = async (path) => {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
};

/** Everything the page shows, in one snapshot. */
const load = async (jid) => {
  const job = await getJson(`/jobs/${jid}`);
  const [checkpoints, exceptions, perVertex] = await Promise.all([
    getJson(`/jobs/${jid}/checkpoints`),
    getJson(`/jobs/${jid}/exceptions`),
    Promise.all(
      job.vertices.map(async (v) => {
        const [bp, wm] = await Promise.all([getJson(`/jobs/${jid}/vertices/${v.id}/backpressure`), getJson(`/jobs/${jid}/vertices/${v.id}/watermarks`)]);
        const outputs = wm.filter((w) => w.id.endsWith(".currentOutputWatermark")).map((w) => Number(w.value));
        const watermark = outputs.length === 0 ? null : Math.min(...outputs);
        return [v.id, { bp, watermark: watermark === null || watermark <= Number.MIN_SAFE_INTEGER ? null : watermark }];
      }),
    ),
  ]);
  return { job, checkpoints, exceptions, vertices: Object.fromEntries(perVertex), at: Date.now() };
};

/** Layers by longest path from the sources; one column per layer. */
const layout = (vertices) => {
  const byId = new Map(vertices.map((v) => [v.id, v]));
  const layer = new Map();
  const depth = (v) => {
    if (layer.has(v.id)) return layer.get(v.id);
    const d = v.inputs.length === 0 ? 0 : 1 + Math.max(...v.inputs.map((i) => depth(byId.get(i.id))));
    layer.set(v.id, d);
    return d;
  };
  vertices.forEach(depth);
  const rows = new Map();
  const at = new Map();
  for (const v of vertices) {
    const l = layer.get(v.id);
    const row = rows.get(l) ?? 0;
    rows.set(l, row + 1);
    at.set(v.id, { x: 20 + l * 300, y: 20 + row * 130 });
  }
  return { at, width: 40 + (Math.max(...layer.values()) + 1) * 300, height: 40 + Math.max(...rows.values()) * 130 };
};

const W = 240;
const H = 96;

const Graph = ({ job, vertices }) => {
  const plan = new Map(job.plan.nodes.map((n) => [n.id, n]));
  const nodes = job.vertices.map((v) => ({ ...v, inputs: plan.get(v.id)?.inputs ?? [] }));
  const { at, width, height } = layout(nodes);
  return html`<svg data-testid="job-graph" width=${width} height=${height} viewBox="0 0 ${width} ${height}">
    <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#8a96a3" /></marker></defs>
    ${nodes.flatMap((v) =>
      v.inputs.map((i) => {
        const from = at.get(i.id);
        const to = at.get(v.id);
        const [x1, y1, x2, y2] = [from.x + W, from.y + H / 2, to.x, to.y + H / 2];
        return html`<g><path class="edge" d="M${x1},${y1} C${x1 + 30},${y1} ${x2 - 30},${y2} ${x2},${y2}" /><text class="edge-label" x=${(x1 + x2) / 2 - 24} y=${(y1 + y2) / 2 - 6}>${i.ship_strategy}</text></g>`;
      }),
    )}
    ${nodes.map((v) => {
      const p = at.get(v.id);
      const level = vertices[v.id]?.bp.backpressureLevel ?? "ok";
      const m = v.metrics;
      return html`<g class="vertex ${level}" data-vertex=${v.name} transform="translate(${p.x},${p.y})">
        <rect width=${W} height=${H} />
        <text x="10" y="20" font-weight="600">${v.name.length > 34 ? `${v.name.slice(0, 33)}…` : v.name}</text>
        <text x="10" y="40">parallelism ${v.parallelism} · ${v.status}</text>
        <text x="10" y="58">in ${fmt(m["read-records-per-second"])}/s · out ${fmt(m["write-records-per-second"])}/s</text>
        <text x="10" y="76">backpressure ${level}${v["state-size"] > 0 ? ` · state ${bytes(v["state-size"])}` : ""}</text>
      </g>`;
    })}
  </svg>`;
};

const Vertices = ({ job, vertices, at }) => html`<table data-testid="vertices">
  <thead><tr><th>Operator chain</th><th class="num">Parallelism</th><th class="num">Records in</th><th class="num">Records out</th><th class="num">In/s</th><th class="num">Out/s</th><th>Backpressure</th><th class="num">Busy</th><th>Watermark</th><th class="num">Lag</th><th class="num">State</th></tr></thead>
  <tbody>${job.vertices.map((v) => {
    const x = vertices[v.id];
    const level = x?.bp.backpressureLevel ?? "ok";
    const busy = x === undefined || x.bp.subtasks.length === 0 ? null : x.bp.subtasks.reduce((n, s) => n + s.busyRatio, 0) / x.bp.subtasks.length;
    const wm = x?.watermark ?? null;
    return html`<tr data-vertex=${v.name}>
      <td>${v.name}</td><td class="num">${v.parallelism}</td>
      <td class="num" data-testid="records-in">${fmt(v.metrics["read-records"])}</td>
      <td class="num" data-testid="records-out">${fmt(v.metrics["write-records"])}</td>
      <td class="num">${fmt(v.metrics["read-records-per-second"])}</td><td class="num">${fmt(v.metrics["write-records-per-second"])}</td>
      <td data-testid="backpressure"><span class="bp ${level}"></span>${level}</td>
      <td class="num">${busy === null ? "–" : `${Math.round(busy * 100)} %`}</td>
      <td>${wm === null ? "–" : new Date(wm).toISOString()}</td>
      <td class="num">${wm === null ? "–" : ms(at - wm)}</td>
      <td class="num">${bytes(v["state-size"])}</td>
    </tr>`;
  })}</tbody></table>`;

/** Duration (left axis) and size (right axis) of the completed checkpoints, oldest first. */
const Chart = ({ history }) => {
  const done = history.filter((h) => h.status === "COMPLETED").reverse();
  if (done.length < 2) return html`<p class="muted" data-testid="checkpoint-chart">The chart appears after two completed checkpoints.</p>`;
  const [w, h, pad] = [560, 160, 36];
  const x = (i) => pad + (i * (w - 2 * pad)) / (done.length - 1);
  const line = (f) => {
    const max = Math.max(1, ...done.map(f));
    return { max, points: done.map((c, i) => `${x(i)},${h - pad - (f(c) * (h - 2 * pad)) / max}`).join(" ") };
  };
  const d = line((c) => c.end_to_end_duration);
  const s = line((c) => c.state_size);
  return html`<svg data-testid="checkpoint-chart" width=${w} height=${h}>
    <line x1=${pad} y1=${h - pad} x2=${w - pad} y2=${h - pad} stroke="#d9dee4" />
    <polyline points=${d.points} fill="none" stroke="#2a9d8f" stroke-width="2" />
    <polyline points=${s.points} fill="none" stroke="#e76f51" stroke-width="2" />
    <text x=${pad} y="14" fill="#2a9d8f">duration (max ${ms(d.max)})</text>
    <text x=${w / 2} y="14" fill="#e76f51">size (max ${bytes(s.max)})</text>
    <text x=${pad} y=${h - 10} class="muted">checkpoint ${done[0].id}</text>
    <text x=${w - pad - 90} y=${h - 10} class="muted">checkpoint ${done[done.length - 1].id}</text>
  </svg>`;
};

const Checkpoints = ({ checkpoints }) => html`<div>
  <p data-testid="checkpoint-counts">${checkpoints.counts.completed} completed · ${checkpoints.counts.failed} failed · ${checkpoints.counts.in_progress} in progress${checkpoints.latest.restored === null ? "" : ` · restored from ${checkpoints.latest.restored.id}`}</p>
  <${Chart} history=${checkpoints.history} />
  <table data-testid="checkpoints">
    <thead><tr><th class="num">Id</th><th>Status</th><th>Triggered</th><th class="num">Duration</th><th class="num">Sync</th><th class="num">Async</th><th class="num">Alignment</th><th class="num">Size</th><th class="num">Incremental</th></tr></thead>
    <tbody>${checkpoints.history.slice(0, 20).map(
      (c) => html`<tr data-checkpoint=${c.id} title=${c.failure_message ?? ""}>
        <td class="num">${c.id}</td><td data-testid="checkpoint-status">${c.status}${c.is_final ? " (final)" : ""}</td><td>${time(c.trigger_timestamp)}</td>
        <td class="num">${ms(c.end_to_end_duration)}</td><td class="num">${ms(c.sync_duration)}</td><td class="num">${ms(c.async_duration)}</td><td class="num">${ms(c.alignment_duration)}</td>
        <td class="num">${bytes(c.state_size)}</td><td class="num">${bytes(c.checkpointed_size)}</td>
      </tr>`,
    )}</tbody>
  </table></div>`;

const Exceptions = ({ exceptions }) => {
  const entries = exceptions.exceptionHistory.entries;
  if (entries.length === 0) return html`<p class="muted" data-testid="exceptions">No exceptions.</p>`;
  return html`<div data-testid="exceptions">${entries.slice(0, 10).map(
    (e) => html`<div class="panel exception"><strong>${e.exceptionName}</strong> at ${time(e.timestamp)}${e.taskName === null ? "" : html` in operator <code>${e.taskName}</code>`}${e.restarted ? " (restarted)" : " (ended the job)"}<pre>${e.message}</pre></div>`,
  )}</div>`;
};

const Actions = ({ job, needsToken, onNotice }) => {
  if (job.state !== "RUNNING" || needsToken) return null;
  const stop = async () => {
    const r = await fetch(`/jobs/${job.jid}/stop`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    const { "request-id": rid } = await r.json();
    onNotice("Stopping with a final checkpoint…");
    for (;;) {
      await new Promise((done) => setTimeout(done, 200));
      const s = await getJson(`/jobs/${job.jid}/savepoints/${rid}`).catch(() => null);
      if (s === null) return onNotice("The job has ended.");
      if (s.status.id !== "COMPLETED") continue;
      const failure = s.operation["failure-cause"];
      if (failure !== undefined) return onNotice(`The job ended ${failure.class} instead of stopping.`, failure.class);
      return onNotice(s.operation.location ? `Stopped at ${s.operation.location}; the same weir run command resumes it.` : "The job has ended.", "FINISHED");
    }
  };
  const cancel = async () => {
    await fetch(`/jobs/${job.jid}?mode=cancel`, { method: "PATCH" });
    onNotice("Cancelling…");
  };
  return html`<span class="actions"><button data-testid="stop" onClick=${stop}>Stop</button><button data-testid="cancel" onClick=${cancel}>Cancel</button></span>`;
};

const App = () => {
  const [snapshot, setSnapshot] = useState(null);
  const [gone, setGone] = useState(false);
  const [notice, setNotice] = useState(null);
  const [finalState, setFinalState] = useState(null);
  const [config, setConfig] = useState(null);
  useEffect(() => {
    let stopped = false;
    let jid = null;
    const tick = async () => {
      try {
        if (config === null) setConfig(await getJson("/config"));
        if (jid === null) jid = (await getJson("/jobs/overview")).jobs[0].jid;
        const next = await load(jid);
        if (!stopped) {
          setSnapshot(next);
          setGone(false);
        }
      } catch {
        if (!stopped) setGone(true);
      }
      if (!stopped) setTimeout(tick, POLL_MS);
    };
    tick();
    return () => (stopped = true);
  }, []);
  if (snapshot === null) return html`<p>${gone ? "The job's server does not answer." : "Loading the job…"}</p>`;
  const { job, checkpoints, exceptions, vertices, at } = snapshot;
  const state = finalState ?? job.state;
  return html`
    <header>
      <h1 data-testid="job-name">${job.name}</h1>
      <span class="state ${state}" data-testid="job-state">${state}</span>
      <span class="muted">id ${job.jid} · up ${duration(job.duration)} · restarts ${job.restarts}</span>
      <${Actions} job=${{ ...job, state }} needsToken=${config?.["mutations-need-token"] === true} onNotice=${(text, final) => {
        setNotice(text);
        if (final) setFinalState(final);
      }} />
    </header>
    ${notice === null ? null : html`<div class="notice" data-testid="notice">${notice}</div>`}
    ${gone ? html`<div class="notice" data-testid="gone">The job's server no longer answers: the run has ended. The last state it reported is shown.</div>` : null}
    <h2>Job graph</h2><div class="panel"><${Graph} job=${job} vertices=${vertices} /></div>
    <h2>Operators</h2><div class="panel"><${Vertices} job=${job} vertices=${vertices} at=${at} /></div>
    <h2>Checkpoints</h2><div class="panel"><${Checkpoints} checkpoints=${checkpoints} /></div>
    <h2>Exceptions</h2><${Exceptions} exceptions=${exceptions} />`;
};

render(html`<${App} />`, document.getElementById("app"));
