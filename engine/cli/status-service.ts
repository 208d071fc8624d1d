/**
 * `weir run`'s window onto its job: the JobStatus the run feeds, the REST server over it
 * (engine/status/rest-server.ts) and the entry that `weir list|stop|cancel` find it by
 * (running-jobs.ts). Started once the job's lock is held (a refused second run takes no port).
 *
 * Binding beyond loopback (`--ui-host`) makes a token for mutating calls, written 0600 to
 * `<checkpoint-dir>/<job>/.ui-token` and removed when the run ends. A server that cannot start (no
 * free port in range, an address that cannot be bound) is a user error naming the address and
 * the flags to change; the job does not start.
 */
import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { describeError, userError } from "../../common/errors.ts";
import { jobRoot } from "../../checkpoint/storage.ts";
import { JobStatus } from "../status/job-status.ts";
import { isLoopback, startStatusServer, type JobControl, type StatusServer } from "../status/rest-server.ts";
import type { JobPlan } from "../plan.ts";
import { registerRunningJob } from "./running-jobs.ts";
import { loadDashboard } from "../status/dashboard.ts";

export interface UiFlags {
  /** false: no server (`--no-ui`). */
  readonly ui: boolean;
  readonly uiPort: number;
  readonly uiHost: string;
}

export interface StatusService {
  readonly status: JobStatus;
  /** Undefined with `--no-ui`. */
  readonly server: StatusServer | undefined;
  /**
   * Prints the address line, once: called when the job first runs, so a run refused before it
   * starts (a bad path, a held lock) still fails with its one-line error alone.
   */
  announce(): void;
  close(): Promise<void>;
}

export const startStatusService = async (options: {
  readonly plan: JobPlan;
  readonly flags: UiFlags;
  readonly checkpointDir: string;
  readonly control: JobControl;
  readonly say: (line: string) => void;
}): Promise<StatusService> => {
  const { plan, flags, say } = options;
  const status = new JobStatus(plan, Date.now());
  if (!flags.ui) return { status, server: undefined, announce: () => undefined, close: async () => undefined };
  const dashboard = await loadDashboard();
  const needsToken = !isLoopback(flags.uiHost);
  const token = needsToken ? randomBytes(24).toString("base64url") : undefined;
  const tokenFile = needsToken ? join(jobRoot(options.checkpointDir, plan.job.name), ".ui-token") : undefined;
  if (tokenFile !== undefined) {
    await rm(tokenFile, { force: true });
    await writeFile(tokenFile, `${token}\n`, { mode: 0o600, flag: "wx" });
  }
  let server: StatusServer;
  try {
    server = await startStatusServer({
      status,
      control: options.control,
      host: flags.uiHost,
      port: flags.uiPort,
      extend: dashboard,
      ...(token === undefined ? {} : { token }),
    });
  } catch (e) {
    if (tokenFile !== undefined) await rm(tokenFile, { force: true });
    throw userError(
      "UI_UNAVAILABLE",
      `could not serve the REST API and dashboard on ${flags.uiHost}:${flags.uiPort}${flags.uiPort === 0 ? "" : " (or the next ports)"}: ${describeError(e)}; pass another --ui-port or --ui-host, or --no-ui`,
    );
  }
  let announced = false;
  const announce = () => {
    if (announced) return;
    announced = true;
    say(`REST API and dashboard at ${server.address} (job id ${status.id})${tokenFile === undefined ? "" : `; mutating calls need the token in ${tokenFile}`}`);
  };
  const unregister = await registerRunningJob({
    job: plan.job.name,
    id: status.id,
    address: server.address,
    checkpointDir: resolve(options.checkpointDir),
    startedAt: status.startTime,
    ...(tokenFile === undefined ? {} : { tokenFile }),
  }).catch((e: unknown) => {
    say(`warning: weir list will not show this job: ${describeError(e)}`);
    return async () => undefined;
  });
  return {
    status,
    server,
    announce,
    close: async () => {
      // A `weir stop` waiting for the final checkpoint polls about every 200 ms.
      await server.answered(3_000);
      await unregister();
      await server.close().catch(() => undefined);
      if (tokenFile !== undefined) await rm(tokenFile, { force: true });
    },
  };
};
