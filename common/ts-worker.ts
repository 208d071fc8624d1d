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
 * The worker starts with no execArgv of its own (`options.execArgv` is ignored), so a parent
 * started with `--import tsx` does not register the loader twice.
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

export const startTsWorker = (entry: URL, options: Omit<WorkerOptions, "eval" | "execArgv"> = {}): Worker =>
  new Worker(bootstrap(entry), { ...options, eval: true, execArgv: [] });
