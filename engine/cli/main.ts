/**
 * The `weir` command line. `main` returns the exit code: 0 success, 1 the job failed,
 * 2 the command line was wrong.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { isWeirError, describeError } from "../../common/errors.ts";
import { parseDuration } from "../../common/duration.ts";
import { listCheckpoints, inspectCheckpoint } from "./checkpoints-command.ts";
import { runCommand, type RunFlags } from "./run-command.ts";
import { defaultRestartStrategy } from "./restart.ts";
import { cancelJob, listJobs, savepointJob, stopJob } from "./control-commands.ts";
import { VERIFY_USAGE_ERRORS, verifyCommand, type VerifyFlags } from "./verify-command.ts";
import { parseParallelismRange } from "../verify/schedule.ts";

const duration = (flag: string, allowOff = false) => (raw: string) => {
  if (allowOff && (raw === "off" || raw === "none")) return Infinity;
  const ms = parseDuration(raw);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError(`${flag} takes a duration like 200ms, 1s or 1m, got '${raw}'`);
  return ms;
};

const nonNegativeInt = (flag: string) => (raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} takes a whole number, got '${raw}'`);
  return n;
};

const restartAttempts = (raw: string) => {
  if (raw === "unlimited") return Number.POSITIVE_INFINITY;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`--restart-attempts takes a whole number or 'unlimited', got '${raw}'`);
  return n;
};

const positiveInt = (flag: string) => (raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} takes a positive integer, got '${raw}'`);
  return n;
};

const port = (raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`--ui-port takes a port number 0..65535 (0: any free port), got '${raw}'`);
  return n;
};

const collectParam = (value: string, previous: string[]) => {
  if (value.indexOf("=") <= 0) throw new InvalidArgumentError(`'${value}' is not of the form key=value`);
  return [...previous, value];
};

const DEBUG_HINT = "WEIR_DEBUG=1 prints the stack trace";

/**
 * One line naming what failed, where, and the error code. An internal or unclassified error adds
 * how to get its stack trace (printed only with WEIR_DEBUG set).
 */
export const formatError = (e: unknown, jobFile?: string): string => {
  if (!isWeirError(e)) return `weir: internal error: ${describeError(e)}; ${DEBUG_HINT}`;
  const file = e.jobFile ?? jobFile;
  const where: string[] = [];
  if (file !== undefined && !e.message.includes(file)) where.push(`job ${file}`);
  if (e.operator !== undefined && !e.message.includes(`'${e.operator}'`)) where.push(`operator '${e.operator}'`);
  const hint = e.domain === "internal" ? `; ${DEBUG_HINT}` : "";
  return `weir: ${e.message}${where.length > 0 ? ` [${where.join(", ")}]` : ""} (${e.code})${hint}`;
};

type RunCliFlags = Omit<RunFlags, "restart"> & {
  restartAttempts: number;
  restartDelay: number;
  restartMaxDelay: number;
  restartBackoff: "fixed" | "exponential";
};

const parallelismRange = (raw: string) => {
  const range = parseParallelismRange(raw);
  if (range === undefined) throw new InvalidArgumentError(`--parallelism-range takes a range like 1..4 (or one number), got '${raw}'`);
  return range;
};

const seedArg = (raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 31) throw new InvalidArgumentError(`--seed takes a whole number below 2^31, got '${raw}'`);
  return n;
};

/** `result.code`: the exit code a command asks for when it returns normally (weir verify: 1 when outputs differ). */
export const buildProgram = (result: { code: number } = { code: 0 }): Command => {
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
  weir run --help                                              every option of 'run'
  weir verify jobs/account-totals.ts --param events=20000      check a job is exactly-once under SIGKILLs`,
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
    .option(
      "--state-dir <dir>",
      "this run's RocksDB working directory, deleted when it ends; new, empty or left by an ended run (default .weir/<job>/state/<run>)",
    )
    .option(
      "--workers <n>",
      "worker threads the subtasks run on (slot i, subtask i of every operator, on thread i mod n); 0: all on the main thread's event loop, for debugging (default: the available cores, at most the parallelism; 0 at parallelism 1)",
      nonNegativeInt("--workers"),
    )
    .option("--batch-size <n>", "records per batch read from sources", positiveInt("--batch-size"), 1024)
    .option(
      "--state-cache-cells <n>",
      "keyed-state cells each operator subtask keeps in memory in front of RocksDB (a few: every state access reads or writes RocksDB, as Flink's RocksDB backend)",
      positiveInt("--state-cache-cells"),
      200_000,
    )
    .option("--checkpoint-dir <dir>", "where checkpoints are kept (<dir>/<job>/chk-<n>)", ".weir/checkpoints")
    .option("--checkpoint-interval <duration>", "time between checkpoints, e.g. 200ms, 1s, 1m ('off': only the final one)", duration("--checkpoint-interval", true), 10_000)
    .option("--checkpoint-timeout <duration>", "abort a checkpoint that takes longer", duration("--checkpoint-timeout"), 600_000)
    .option("--retain <n>", "completed checkpoints to keep", positiveInt("--retain"), 3)
    .option("--fresh", "delete this job's old checkpoints and start from the beginning", false)
    .option("--from <path>", "resume from this checkpoint directory (chk-<n>) instead of the latest")
    .option("--allow-duplicate-output", "restore an older checkpoint even if sinks that cannot retract (Kafka, print) write some output twice", false)
    .option("--allow-non-restored-state", "restoring, drop the state of operators the job no longer has (renamed or removed) instead of refusing", false)
    .option("--overwrite-output", "starting from the beginning, delete the part files earlier runs of the job committed", false)
    .addOption(
      new Option("--restart-attempts <n>", "restarts in a row from the latest checkpoint after retriable failures (other failures: at most 3)")
        .argParser(restartAttempts)
        .default(defaultRestartStrategy.attempts, "unlimited"),
    )
    .option("--restart-delay <duration>", "wait before the first restart", duration("--restart-delay"), defaultRestartStrategy.delayMs)
    .option("--restart-max-delay <duration>", "longest wait between restarts (exponential)", duration("--restart-max-delay"), defaultRestartStrategy.maxDelayMs)
    .addOption(
      new Option("--restart-backoff <kind>", "fixed delay, or growing ×1.5 per restart in a row up to --restart-max-delay")
        .choices(["fixed", "exponential"])
        .default(defaultRestartStrategy.kind),
    )
    .option("--no-progress", "do not print the progress line")
    .option("--ui-port <port>", "port of the REST API and dashboard (taken: the next free one; 0: any free port)", port, 8081)
    .option("--ui-host <host>", "address the REST API and dashboard listen on; beyond loopback, stop and cancel need the token written at start", "127.0.0.1")
    .option("--no-ui", "serve no REST API or dashboard")
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
  weir run jobs/account-totals.ts --parallelism 2 --param events=100000 --param out=out/totals
  weir run jobs/account-totals.ts --checkpoint-interval 1s      # after a crash, the same command resumes
  weir run jobs/account-totals.ts --parallelism 3               # resumes a checkpoint taken at 2, rescaled`,
    )
    .action(async (file: string, flags: RunCliFlags) => {
      await runCommand(file, {
        ...flags,
        restart: {
          ...defaultRestartStrategy,
          kind: flags.restartBackoff,
          attempts: flags.restartAttempts,
          delayMs: flags.restartDelay,
          maxDelayMs: flags.restartMaxDelay,
        },
      });
    });

  const print = (line: string) => void process.stdout.write(`${line}\n`);
  program
    .command("list")
    .description("the jobs weir run is running on this machine: name, REST id, state, address, pid")
    .action(async () => listJobs(print));
  program
    .command("stop")
    .description("stop a running job with a final checkpoint (sinks committed); the same weir run command resumes it")
    .argument("<job>", "the job's name or REST id (weir list)")
    .option("--savepoint <dir>", "also copy the final checkpoint into a savepoint in <dir> (restore it with weir run --from)")
    .option("--timeout <duration>", "how long to wait for the job to stop", duration("--timeout"), 600_000)
    .action(async (job: string, flags: { timeout: number; savepoint?: string }) => stopJob(job, flags.timeout, print, flags.savepoint));
  program
    .command("savepoint")
    .description("take a savepoint of a running job: a self-contained copy of a checkpoint, restored with weir run --from <savepoint> at any parallelism")
    .argument("<job>", "the job's name or REST id (weir list)")
    .argument("[dir]", "where the savepoint goes (default: savepoints/ beside the job's checkpoint directory)")
    .option("--timeout <duration>", "how long to wait for the savepoint", duration("--timeout"), 600_000)
    .action(async (job: string, dir: string | undefined, flags: { timeout: number }) => savepointJob(job, dir, flags.timeout, print));
  program
    .command("cancel")
    .description("cancel a running job at once, without a checkpoint; the next run resumes from its latest completed checkpoint")
    .argument("<job>", "the job's name or REST id (weir list)")
    .option("--timeout <duration>", "how long to wait for the job to end", duration("--timeout"), 60_000)
    .action(async (job: string, flags: { timeout: number }) => cancelJob(job, flags.timeout, print));

  program
    .command("verify")
    .description("check exactly-once for a job: run it without failures, then under seeded SIGKILLs (resuming at varying parallelism), and compare every sink's committed output")
    .argument("<job-file>", "the job module, e.g. jobs/word-count.ts")
    .option("--param <key=value>", "a job parameter (repeatable), as for weir run", collectParam, [])
    .option("--kills <n>", "runs killed before the one that runs to the end", nonNegativeInt("--kills"), 3)
    .option("--seed <n>", "the seed of the kill schedule (default: random, printed); the same seed replays it", seedArg)
    .addOption(
      new Option("--parallelism-range <min..max>", "parallelism of each run is drawn from this range (the failure-free run uses min)")
        .argParser(parallelismRange)
        .default({ min: 1, max: 4 }, "1..4"),
    )
    .option("--real-sinks", "check the job's own sinks (they must start empty and be readable: toFiles), not scratch exactly-once file sinks", false)
    .option(
      "--checkpoint-interval <duration>",
      "time between checkpoints of every run",
      (raw: string) => {
        duration("--checkpoint-interval")(raw); // refuses what weir run would refuse
        return raw;
      },
      "100ms",
    )
    .addOption(new Option("--state-backend <kind>", "where keyed state lives").choices(["rocksdb", "heap"]).default("rocksdb"))
    .addHelpText(
      "after",
      `
Exit code: 0 every sink committed exactly the failure-free output, 1 some did not (the first
operator whose output diverged and the likely cause are printed), 2 the command line was wrong.

Examples:
  weir verify jobs/account-totals.ts --param events=20000 --param rate=10000
  weir verify my-job.ts --seed 1234 --kills 5 --parallelism-range 1..3     replay a schedule
  weir verify my-job.ts --real-sinks --param out=/tmp/check                 check the job's own sinks too`,
    )
    .action(async (file: string, flags: VerifyFlags) => {
      const say = (line: string) => void process.stderr.write(`weir verify: ${line}\n`);
      result.code = await verifyCommand(file, flags, print, say);
    });

  const checkpoints = program.command("checkpoints").description("list and inspect checkpoints");
  checkpoints
    .command("list")
    .description("the checkpoints of a job: id, time, size, duration, source positions")
    .requiredOption("--job <name>", "the job's name (as given to job(...))")
    .option("--checkpoint-dir <dir>", "where checkpoints are kept", ".weir/checkpoints")
    .action(async (flags: { job: string; checkpointDir: string }) => {
      await listCheckpoints(flags.checkpointDir, flags.job, (line) => void process.stdout.write(`${line}\n`));
    });
  checkpoints
    .command("inspect")
    .description("what a checkpoint holds: state sizes per operator, source positions, pending sink transactions")
    .argument("<path>", "a checkpoint directory, e.g. .weir/checkpoints/word-count/chk-3")
    .action(async (path: string) => {
      await inspectCheckpoint(path, (line) => void process.stdout.write(`${line}\n`));
    });

  return program;
};

export const main = async (argv: readonly string[]): Promise<number> => {
  const result = { code: 0 };
  const program = buildProgram(result);
  let jobFile: string | undefined;
  try {
    jobFile = argv[2] === "run" || argv[2] === "verify" ? argv[3] : undefined;
    await program.parseAsync([...argv]);
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`${formatError(e, jobFile)}\n`);
    if (argv[2] === "verify" && isWeirError(e) && VERIFY_USAGE_ERRORS.has(e.code)) return 2;
    if (process.env.WEIR_DEBUG && e instanceof Error) {
      process.stderr.write(`${e.stack ?? ""}\n`);
      if (e.cause instanceof Error) process.stderr.write(`caused by: ${e.cause.stack ?? ""}\n`);
    }
    return 1;
  }
};
