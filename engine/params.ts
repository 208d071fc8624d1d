/**
 * Job parameters (`weir run job.ts --param key=value`), read with defaults, as Flink's
 * ParameterTool. A present but malformed value is a user error naming the parameter.
 */
import { userError } from "../common/errors.ts";

export interface Params {
  has(name: string): boolean;
  get(name: string): string | undefined;
  get(name: string, defaultValue: string): string;
  number(name: string, defaultValue: number): number;
  integer(name: string, defaultValue: number): number;
  boolean(name: string, defaultValue: boolean): boolean;
  /** Every parameter given, for logging. */
  toObject(): Readonly<Record<string, string>>;
}

const bad = (name: string, raw: string, expected: string) =>
  userError("BAD_PARAMETER", `parameter '${name}' is '${raw}', expected ${expected} (set it with --param ${name}=...)`);

export const paramsFrom = (values: Readonly<Record<string, string>>): Params => {
  const copy = { ...values };
  function get(name: string): string | undefined;
  function get(name: string, defaultValue: string): string;
  function get(name: string, defaultValue?: string): string | undefined {
    return copy[name] ?? defaultValue;
  }
  return {
    has: (name) => name in copy,
    get,
    number: (name, defaultValue) => {
      const raw = copy[name];
      if (raw === undefined) return defaultValue;
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n)) throw bad(name, raw, "a number");
      return n;
    },
    integer: (name, defaultValue) => {
      const raw = copy[name];
      if (raw === undefined) return defaultValue;
      const n = Number(raw.replaceAll("_", ""));
      if (raw.trim() === "" || !Number.isSafeInteger(n)) throw bad(name, raw, "an integer");
      return n;
    },
    boolean: (name, defaultValue) => {
      const raw = copy[name];
      if (raw === undefined) return defaultValue;
      if (["true", "1", "yes"].includes(raw)) return true;
      if (["false", "0", "no"].includes(raw)) return false;
      throw bad(name, raw, "true or false");
    },
    toObject: () => copy,
  };
};

/** Parses `key=value` strings (from the CLI); a string without `=` is a user error. */
export const parseParamArgs = (args: readonly string[]): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw userError("BAD_PARAMETER", `--param '${arg}' is not of the form key=value`);
    out[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  return out;
};
