import { WeirError, isWeirError, userError, describeError } from "../common/errors.ts";
import type { NotPromise } from "./operator.ts";

/** A record as one short line (JSON, at most 200 characters), for error messages. */
export const preview = (record: unknown): string => {
  let text: string;
  try {
    text = JSON.stringify(record) ?? String(record);
  } catch {
    text = String(record);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
};

/**
 * A user function broke the API's contract without throwing (it returned a Promise, or a value
 * where nothing is expected). Thrown inside an operator's per-record `try`; `userFunctionError`
 * turns it into a user error that names the operator and the record.
 */
class ContractViolation extends Error {
  readonly code: string;
  /** What the function did, e.g. "returned a Promise". */
  readonly what: string;
  /** What to do instead. */
  readonly advice: string;

  constructor(code: string, what: string, advice: string) {
    super(`${what}: ${advice}`);
    this.code = code;
    this.what = what;
    this.advice = advice;
  }
}

/** True for a Promise or any other thenable (what an `async` function returns). Cheap for primitives. */
export const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  ((typeof value === "object" && value !== null) || typeof value === "function") && typeof (value as { then?: unknown }).then === "function";

const asyncViolation = (promise: PromiseLike<unknown>): ContractViolation => {
  // The job fails on this error; a later rejection of the abandoned promise must not crash the
  // process with an unrelated "unhandled rejection".
  try {
    promise.then(undefined, () => undefined);
  } catch {
    // a thenable whose `then` throws: nothing to silence
  }
  return new ContractViolation(
    "ASYNC_USER_FUNCTION",
    "returned a Promise",
    "Weir functions must be synchronous (a Promise is not awaited: it would be emitted or stored as {}). " +
      "For a call to an external service, use stream.asyncMap(fn, { capacity, timeout }) (async I/O, as Flink's AsyncDataStream), which awaits fn's Promise without blocking the task",
  );
};

/**
 * Returns `result` if it is not a Promise; throws the "must be synchronous" violation if it is.
 * For user functions whose result is emitted or stored (map, reduce, aggregate, key selectors,
 * window results); call it on every result: it costs two `typeof` checks for a primitive.
 * (The first signature unwraps the API's `NotPromise<R>` result types.)
 */
export function requireSync<R>(result: NotPromise<R>): R;
export function requireSync<R>(result: R): R;
export function requireSync(result: unknown): unknown {
  if (isThenable(result)) throw asyncViolation(result);
  return result;
}

/**
 * Throws unless `result` is undefined: for process-like functions (keyed / co- / window process
 * functions, coGroup and interval join functions), which emit through `out.collect` and return
 * nothing, as Flink's `void processElement(...)`. A returned value would otherwise be dropped.
 */
export const requireNothing = (result: unknown): void => {
  if (result === undefined) return;
  if (isThenable(result)) throw asyncViolation(result);
  throw new ContractViolation(
    "PROCESS_FUNCTION_RETURNED_VALUE",
    `returned ${preview(result)}`,
    "this function emits with out.collect(value) and must return nothing (a returned value is not emitted)",
  );
};

/**
 * The error for a user function that threw (or broke its contract, see `requireSync` /
 * `requireNothing`): names the operator, the record (abbreviated) and its index in the batch,
 * and keeps the original error as `cause`. Not retriable: the same record would fail again.
 */
export const userFunctionError = (operator: string, record: unknown, index: number, cause: unknown): WeirError => {
  if (isWeirError(cause)) return cause.withContext({ operator });
  if (cause instanceof ContractViolation) {
    return userError(
      cause.code,
      `operator '${operator}' ${cause.what} for record ${preview(record)} (record ${index} of its batch): ${cause.advice}`,
      { operator },
    );
  }
  return userError(
    "USER_FUNCTION_FAILED",
    `operator '${operator}' threw on record ${preview(record)} (record ${index} of its batch): ${describeError(cause)}`,
    { operator, cause },
  );
};
