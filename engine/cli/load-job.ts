/**
 * Loads a job module (TypeScript or JavaScript) and returns its job definition. Every failure
 * is a one-line user error naming the file and what to do.
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { userError, describeError, isWeirError } from "../../common/errors.ts";
import { isJobDefinition, type JobDefinition } from "../job.ts";

export const loadJob = async (file: string): Promise<JobDefinition> => {
  const abs = resolve(file);
  try {
    await stat(abs);
  } catch {
    throw userError("JOB_FILE_NOT_FOUND", `job file not found: ${file}`, { jobFile: file });
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    if (isWeirError(e)) throw e.withContext({ jobFile: file });
    throw userError("JOB_FILE_FAILED", `job file ${file} failed to load: ${describeError(e)}`, { jobFile: file, cause: e });
  }
  // A module outside an ESM package loads as CommonJS: its default export is then `default.default`.
  const candidate = module.default;
  if (isJobDefinition(candidate)) return candidate;
  const interop = (candidate as { default?: unknown } | undefined)?.default;
  if (isJobDefinition(interop)) return interop;
  throw userError(
    "NOT_A_JOB",
    `job file ${file} does not export a job: add \`export default job("name", (env) => ...)\` (import { job } from "weir")`,
    { jobFile: file },
  );
};
