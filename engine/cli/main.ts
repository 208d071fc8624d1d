/**
 * The `weir` command line. `main` returns the exit code: 0 success, 1 the job failed,
 * 2 the command line was wrong.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { WeirError, isWeirError, describeError } from "../../common/errors.ts";
import { buildJob } from "../job.ts";
import { paramsFrom, parseParamArgs } from "../params.ts";
import { planJob } from "../plan.ts";
import { runJob, type StateBackendKind } from "../runtime.ts";
import { loadJob } from "./load-job.ts";
import { startProgress } from "./progress.ts";

const positiveInt = (flag: string) => (raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} takes a positive integer, got '${raw}'`);
  return n;
};

const collectParam = (value: string, previous: string[]) => {
  if (value.indexOf("=") <= 0) throw new InvalidArgumentError(`'${value}' is not of the form key=value`);
  return [...previous, value];
};

/** One line naming what failed, where, and the error code. */
export const formatError = (e: unknown, jobFile?: string): string => {
  if (!isWeirError(e)) return `weir: internal error: ${describeError(e)}`;
  const file = e.jobFile ?? jobFile;
  const where: string[] = [];
  if (file !== undefined && !e.message.includes(file)) where.push(`job ${file}`);
  if (e.operator !== undefined && !e.message.includes(`'${e.operator}'`)) where.push(`operator '${e.operator}'`);
  return `weir: ${e.message}${where.length > 0 ? ` [${where.join(", ")}]` : ""} (${e.code})`;
};

interface RunFlags {
  parallelism: number;
  param: string[];
  stateBackend: StateBackendKind;
  stateDir?: string;
  batchSize: number;
  progress: boolean;
  progressInterval: number;
}

const runCommand = async (file: string, flags: RunFlags): Promise<void> => {
  const definition = await loadJob(file);
  const built = (() => {
    try {
      return buildJob(definition, { params: paramsFrom(parseParamArgs(flags.param)), parallelism: flags.parallelism });
    } catch (e) {
      if (isWeirError(e)) throw e.withContext({ jobFile: file });
      throw new WeirError(`job '${definition.name}' failed while building its graph: ${describeError(e)}`, {
        code: "JOB_BUILD_FAILED",
        domain: "user",
        jobFile: file,
        cause: e,
      });
    }
  })();
  const plan = planJob(built);
  let progress: { stop(): void } | undefined;
  const started = Date.now();
  try {
    const result = await runJob({
      plan,
      stateBackend: flags.stateBackend,
      ...(flags.stateDir === undefined ? {} : { stateDir: flags.stateDir }),
      batchSize: flags.batchSize,
      onStart: (metrics) => {
        if (flags.progress) {
          progress = startProgress(metrics, { jobName: built.name, stream: process.stderr, plainEveryMs: flags.progressInterval });
        }
      },
    });
    progress?.stop();
    const secs = (Date.now() - started) / 1000;
    process.stderr.write(
      `${built.name} finished in ${secs.toFixed(1)}s: ${result.metrics.sourceRecords} records read, ${result.metrics.sinkRecords} written\n`,
    );
  } catch (e) {
    progress?.stop();
    throw isWeirError(e) ? e.withContext({ jobFile: file }) : e;
  }
};

export const buildProgram = (): Command => {
  const program = new Command("weir")
    .description("Weir: a Flink-style stream processor for TypeScript. Runs job modules with keyed state in RocksDB.")
    .configureOutput({ outputError: (text, write) => write(`${text.trimEnd()} (see 'weir help')\n`) })
    .exitOverride()
    .addHelpText(
      "after",
      `
Examples:
  weir run jobs/word-count.ts                                  run a job (keyed state in local RocksDB)
  weir run jobs/account-totals.ts --parallelism 2 --param events=100000
                                                               --parallelism sets the default parallelism,
                                                               --param key=value passes job parameters
  weir run --help                                              every option of 'run'`,
    );

  program
    .command("run")
    .description("run a job module (a .ts or .js file whose default export is job(...))")
    .argument("<job-file>", "the job module, e.g. jobs/word-count.ts")
    .option("-p, --parallelism <n>", "default parallelism of every operator", positiveInt("--parallelism"), 1)
    .option("--param <key=value>", "a job parameter (repeatable), read in the job with env.params", collectParam, [])
    .addOption(
      new Option("--state-backend <kind>", "where keyed state lives").choices(["rocksdb", "heap"]).default("rocksdb"),
    )
    .option("--state-dir <dir>", "working directory for RocksDB state (default .weir/<job>/state/<run>)")
    .option("--batch-size <n>", "records per batch read from sources", positiveInt("--batch-size"), 1024)
    .option("--no-progress", "do not print the progress line")
    .option(
      "--progress-interval <ms>",
      "milliseconds between progress lines when stderr is not a terminal",
      positiveInt("--progress-interval"),
      10_000,
    )
    .addHelpText(
      "after",
      `
Examples:
  weir run jobs/word-count.ts
  weir run jobs/account-totals.ts --parallelism 2 --param events=100000 --param out=out/totals`,
    )
    .action(async (file: string, flags: RunFlags) => {
      await runCommand(file, flags);
    });

  return program;
};

export const main = async (argv: readonly string[]): Promise<number> => {
  const program = buildProgram();
  let jobFile: string | undefined;
  try {
    jobFile = argv[2] === "run" ? argv[3] : undefined;
    await program.parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`${formatError(e, jobFile)}\n`);
    if (process.env.WEIR_DEBUG && e instanceof Error) process.stderr.write(`${e.stack ?? ""}\n`);
    if (isWeirError(e) && e.domain === "internal" && e.cause instanceof Error) process.stderr.write(`${e.cause.stack ?? ""}\n`);
    return 1;
  }
};
