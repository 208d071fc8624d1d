/**
 * `weir list`, `weir stop <job>` and `weir cancel <job>`: thin clients of the REST API of the
 * `weir run` processes on this machine (found through running-jobs.ts).
 *
 * - A job is named by its name (as given to job(...)) or its REST id. A name that matches jobs
 *   of several runs (other checkpoint directories) is refused, listing their ids.
 * - `stop` asks for a stop with a final checkpoint and waits for the run to end, then prints the
 *   checkpoint it stopped at; `cancel` asks for a cancel and waits for the run to end.
 * - A run that does not end within `timeoutMs` is an error (the request stays made).
 * Errors are user errors (JOB_NOT_RUNNING, JOB_AMBIGUOUS, CONTROL_REFUSED, CONTROL_TIMEOUT).
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { describeError, userError } from "../../common/errors.ts";
import { sleep, systemClock } from "../../common/clock.ts";
import { isRunning } from "../../common/process-identity.ts";
import { formatDuration } from "../../common/duration.ts";
import { listRunningJobs, runtimeDir, type RunningJob } from "./running-jobs.ts";


/** One line per running job: name, id, state (from its API), address, pid, uptime, checkpoint directory. */
export const listJobs = async (print: (line: string) => void): Promise<void> => {
  const jobs = await listRunningJobs();
  if (jobs.length === 0) {
    print(`no weir run is running on this machine (looked in ${runtimeDir()})`);
    return;
  }
  for (const j of jobs) {
    const state = await fetch(`${j.address}/jobs/${j.id}`, { signal: AbortSignal.timeout(2_000) })
      .then(async (r) => ((await r.json()) as { state?: string }).state ?? "UNKNOWN")
      .catch(() => "UNREACHABLE");
    print(`${j.job}  id ${j.id}  ${state}  ${j.address}  pid ${j.process.pid}  up ${formatDuration(Date.now() - j.startedAt)}  checkpoints ${j.checkpointDir}`);
  }
};

const findJob = async (name: string): Promise<RunningJob> => {
  const jobs = await listRunningJobs();
  const matches = jobs.filter((j) => j.id === name || j.job === name);
  if (matches.length === 0) {
    const running = jobs.map((j) => `'${j.job}'`).join(", ");
    throw userError("JOB_NOT_RUNNING", `no running job is named '${name}' on this machine${running === "" ? " (none is running)" : ` (running: ${running})`}; weir list shows them`);
  }
  if (matches.length > 1) {
    throw userError("JOB_AMBIGUOUS", `${matches.length} runs of '${name}' are running (${matches.map((j) => `id ${j.id} with checkpoints in ${j.checkpointDir}`).join("; ")}); name one by its id`);
  }
  return matches[0]!;
};

const request = async (job: RunningJob, method: string, path: string, body?: unknown): Promise<unknown> => {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (job.tokenFile !== undefined) headers["authorization"] = `Bearer ${(await readFile(job.tokenFile, "utf8")).trim()}`;
  let response: Response;
  try {
    response = await fetch(`${job.address}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    throw userError("CONTROL_REFUSED", `could not reach job '${job.job}' at ${job.address}: ${describeError(e)}`);
  }
  const parsed = (await response.json().catch(() => ({}))) as { errors?: string[] };
  if (!response.ok) throw userError("CONTROL_REFUSED", `job '${job.job}' refused ${method} ${path}: ${parsed.errors?.join("; ") ?? response.statusText} (HTTP ${response.status})`);
  return parsed;
};

/** Waits until `job`'s process has ended. */
const waitForEnd = async (job: RunningJob, timeoutMs: number, what: string): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (await isRunning(job.process)) {
    if (Date.now() > until) throw userError("CONTROL_TIMEOUT", `job '${job.job}' (pid ${job.process.pid}) did not ${what} within ${formatDuration(timeoutMs)}; it was asked to, and may still`);
    await sleep(systemClock, 100);
  }
};

export const stopJob = async (name: string, timeoutMs: number, print: (line: string) => void, savepoint?: string): Promise<void> => {
  const job = await findJob(name);
  const body = savepoint === undefined ? { drain: false } : { drain: false, targetDirectory: resolve(savepoint) };
  const { "request-id": rid } = (await request(job, "POST", `/jobs/${job.id}/stop`, body)) as { "request-id": string };
  print(`stopping '${job.job}' with a final checkpoint${savepoint === undefined ? "" : ` and a savepoint in ${resolve(savepoint)}`} ...`);
  const until = Date.now() + timeoutMs;
  let location: string | null | undefined;
  while (location === undefined && Date.now() < until) {
    await sleep(systemClock, 200);
    const answer = await request(job, "GET", `/jobs/${job.id}/savepoints/${rid}`).catch(() => undefined);
    if (answer === undefined) break; // the server is gone: the run ended before reporting
    const a = answer as { status: { id: string }; operation?: { location?: string | null; "failure-cause"?: { class: string } } };
    if (a.status.id !== "COMPLETED") continue;
    if (a.operation?.["failure-cause"] !== undefined) throw userError("CONTROL_REFUSED", `job '${job.job}' ended ${a.operation["failure-cause"].class} instead of stopping`);
    location = a.operation?.location ?? null;
  }
  await waitForEnd(job, Math.max(0, until - Date.now()), "stop");
  print(
    location === undefined
      ? `'${job.job}' has ended (its REST API went away before reporting the stop; its output on stderr says how it ended)`
      : location === null
        ? `'${job.job}' stopped`
      : savepoint === undefined
        ? `'${job.job}' stopped at ${location}; the same weir run command resumes it`
        : `'${job.job}' stopped with the savepoint ${location}; weir run with --from ${location} resumes it (at any parallelism)`,
  );
};

/** Asks for a savepoint into `dir` (default: the run's savepoint directory) and waits for its path. */
export const savepointJob = async (name: string, dir: string | undefined, timeoutMs: number, print: (line: string) => void): Promise<void> => {
  const job = await findJob(name);
  const body = dir === undefined ? {} : { "target-directory": resolve(dir) };
  const { "request-id": rid } = (await request(job, "POST", `/jobs/${job.id}/savepoints`, body)) as { "request-id": string };
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    await sleep(systemClock, 200);
    const a = (await request(job, "GET", `/jobs/${job.id}/savepoints/${rid}`)) as {
      status: { id: string };
      operation?: { location?: string; "failure-cause"?: { "stack-trace": string } };
    };
    if (a.status.id !== "COMPLETED") continue;
    const failure = a.operation?.["failure-cause"];
    if (failure !== undefined) throw userError("SAVEPOINT_FAILED", `job '${job.job}' could not take the savepoint: ${failure["stack-trace"]}`);
    print(`savepoint of '${job.job}' written to ${a.operation!.location!}; weir run with --from ${a.operation!.location!} restores it (at any parallelism)`);
    return;
  }
  throw userError("CONTROL_TIMEOUT", `job '${job.job}' took no savepoint within ${formatDuration(timeoutMs)}; it was asked to, and may still`);
};

export const cancelJob = async (name: string, timeoutMs: number, print: (line: string) => void): Promise<void> => {
  const job = await findJob(name);
  await request(job, "PATCH", `/jobs/${job.id}?mode=cancel`);
  await waitForEnd(job, timeoutMs, "end");
  print(`'${job.job}' cancelled; the same weir run command resumes it from its latest completed checkpoint`);
};
