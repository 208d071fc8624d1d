/**
 * A worker thread that runs a TypeScript module, with the TypeScript loader the CLI uses (tsx,
 * registered for both module systems as bin/weir.mjs does), whatever loader the parent runs under
 * (tsx, vitest, plain node).
 *
 *   const worker = startTsWorker(new URL("./producer.ts", import.meta.url), { workerData: { sab } });
 *   worker.on("error", fail).on("exit", ended);
 *
 * Contract: the module is imported once the loader is registered; an error while loading it (or a
 * rejection of its top-level await) reaches the Worker's `error` event, as for a JavaScript worker.
 * The worker inherits the parent's execArgv (`--cpu-prof`, `--max-old-space-size`, ...) except
 * tsx's own loader flags, so a parent started under tsx does not register the loader twice;
 * `options.execArgv` is not accepted.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

const require = createRequire(import.meta.url);

/**
 * The ESM build of a tsx entry point, from tsx's exports map (`require.resolve` would give the
 * CommonJS build, whose `register()` looks for its loader at a wrong path when run this way).
 */
const tsxEsmEntry = (subpath: string): string => {
  const manifest = require.resolve("tsx/package.json");
  const exports = (require(manifest) as { exports: Record<string, { import: { default: string } }> }).exports;
  const target = exports[subpath]?.import.default;
  if (target === undefined) throw new Error(`tsx has no ESM entry for ${subpath}`);
  return pathToFileURL(join(dirname(manifest), target)).href;
};

// An eval'd worker is CommonJS; dynamic import() works there. Both loaders are registered before
// the entry module is imported, as bin/weir.mjs does.
const bootstrap = (entry: URL): string => `
Promise.all([import(${JSON.stringify(tsxEsmEntry("./esm/api"))}), import(${JSON.stringify(tsxEsmEntry("./cjs/api"))})])
  .then(([esm, cjs]) => { esm.register(); cjs.register(); return import(${JSON.stringify(entry.href)}); })
  .catch((e) => { process.nextTick(() => { throw e; }); });
`;

const LOADER_FLAGS = new Set(["--require", "-r", "--import", "--loader", "--experimental-loader"]);
const isTsx = (value: string | undefined) => value !== undefined && /[\\/]tsx[\\/]|^tsx$/.test(value);

/** `execArgv` without the flags that load tsx (`--import <tsx>`, `--require=<tsx>`, ...); pure. */
export const withoutTsxLoader = (execArgv: readonly string[]): string[] => {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    if (!LOADER_FLAGS.has(flag)) kept.push(arg);
    else if (eq >= 0 ? !isTsx(arg.slice(eq + 1)) : !isTsx(execArgv[i + 1])) kept.push(arg);
    else if (eq < 0) i++;
  }
  return kept;
};

export const startTsWorker = (entry: URL, options: Omit<WorkerOptions, "eval" | "execArgv"> = {}): Worker =>
  new Worker(bootstrap(entry), { ...options, eval: true, execArgv: withoutTsxLoader(process.execArgv) });
