/**
 * One error type for the whole engine. Retry logic reads only `retriable`; nothing matches on
 * messages. `domain` says whose fault it is:
 * - `user`: the job, its parameters or its input (fix the job or the data; retrying will not help),
 * - `external`: a file system, broker or other system outside the process (often retriable),
 * - `internal`: a bug in Weir.
 * An error that crosses an operator boundary carries the operator's name (`operator`).
 */
export type ErrorDomain = "user" | "external" | "internal";

export interface WeirErrorOptions {
  readonly code: string;
  readonly domain: ErrorDomain;
  readonly retriable?: boolean;
  readonly operator?: string;
  readonly jobFile?: string;
  readonly cause?: unknown;
}

export class WeirError extends Error {
  readonly code: string;
  readonly domain: ErrorDomain;
  readonly retriable: boolean;
  readonly operator: string | undefined;
  readonly jobFile: string | undefined;

  constructor(message: string, options: WeirErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "WeirError";
    this.code = options.code;
    this.domain = options.domain;
    this.retriable = options.retriable ?? false;
    this.operator = options.operator;
    this.jobFile = options.jobFile;
  }

  /** A copy of this error that also names the operator and/or job file, keeping code and cause. */
  withContext(context: { operator?: string; jobFile?: string }): WeirError {
    const e = new WeirError(this.message, {
      code: this.code,
      domain: this.domain,
      retriable: this.retriable,
      operator: this.operator ?? context.operator,
      jobFile: this.jobFile ?? context.jobFile,
      cause: this.cause,
    });
    e.stack = this.stack;
    return e;
  }
}

export const isWeirError = (e: unknown): e is WeirError => e instanceof WeirError;

export const userError = (code: string, message: string, extra: Omit<WeirErrorOptions, "code" | "domain"> = {}) =>
  new WeirError(message, { ...extra, code, domain: "user" });

export const externalError = (code: string, message: string, extra: Omit<WeirErrorOptions, "code" | "domain"> = {}) =>
  new WeirError(message, { retriable: true, ...extra, code, domain: "external" });

export const internalError = (code: string, message: string, extra: Omit<WeirErrorOptions, "code" | "domain"> = {}) =>
  new WeirError(message, { ...extra, code, domain: "internal" });

/** A short, single-line rendering of an unknown thrown value. */
export const describeError = (e: unknown): string =>
  e instanceof Error ? e.message : typeof e === "string" ? e : JSON.stringify(e);
