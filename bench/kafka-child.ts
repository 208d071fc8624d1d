/**
 * Starts one run of bench/kafka-run.ts in a child process and follows its messages.
 *
 *   const run = startRun(config);
 *   await run.ready;          // the pipeline is wired
 *   run.stop();               // or let it stop by itself (limit, stopAfterMs)
 *   const result = await run.result;
 *
 * `result` rejects if the child exits without a result (its stderr, passed through, says why).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { RunConfig, RunResult } from "./kafka-run.ts";

export interface ChildRun {
  readonly ready: Promise<void>;
  readonly result: Promise<RunResult>;
  /** Asks the run to stop (commit what it processed and report). */
  stop(): void;
}

const script = join(import.meta.dirname, "kafka-run.ts");

export function startRun(config: RunConfig): ChildRun {
  const child = spawn(process.execPath, [...process.execArgv, script, JSON.stringify(config)], { stdio: ["pipe", "pipe", "inherit"] });
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  let outcome: RunResult | undefined;
  createInterface({ input: child.stdout! }).on("line", (line) => {
    let message: { type?: string };
    try {
      message = JSON.parse(line) as { type?: string };
    } catch {
      process.stderr.write(`${line}\n`); // something else printed to stdout
      return;
    }
    if (message.type === "ready") onReady();
    else if (message.type === "result") outcome = message as unknown as RunResult;
  });
  const result = new Promise<RunResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => {
      if (code === 0 && outcome !== undefined) resolve(outcome);
      else reject(new Error(`${config.variant} run ${config.id} exited with ${signal ?? `code ${code}`} without a result`));
    });
  });
  // A run that fails before it is wired must not leave `ready` waiting forever.
  result.then(onReady, onReady);
  return {
    ready,
    result,
    stop: () => {
      if (child.exitCode === null) child.stdin!.write("stop\n");
    },
  };
}
