/**
 * `weir/testing`: test a job with vitest (or any runner) without starting processes.
 *
 * - `testJob(job, { sources, params, parallelism })` runs a whole job in-process: named sources
 *   read in-memory records, every sink's committed output comes back as an array.
 * - `keyedProcessHarness`, `coProcessHarness`, `processHarness` drive one subtask of a process
 *   function: records on either input, watermarks, a manual processing-time clock, side outputs,
 *   snapshots, and restore at another parallelism.
 */
export { testJob, type TestJobOptions, type TestJobResult, type TestSourceRecords } from "./job-runner.ts";
export {
  keyedProcessHarness,
  coProcessHarness,
  processHarness,
  FunctionHarness,
  type HarnessSettings,
  type HarnessSnapshot,
} from "./harness.ts";
