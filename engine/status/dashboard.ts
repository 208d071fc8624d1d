/**
 * The dashboard's files, served by the REST server: the page at `/`, its script and style under
 * `/ui/`, and Preact + htm (the htm package's standalone ES module) at
 * `/ui/vendor/htm-preact.js`. No build step: the files are read from this directory and the
 * installed package when the server starts, and served from memory.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { FastifyInstance } from "fastify";

const here = join(import.meta.dirname, "dashboard");

/** The htm package's root is two levels above its main file (dist/htm.js). */
const vendorFile = (): string => join(dirname(dirname(createRequire(import.meta.url).resolve("htm"))), "preact", "standalone.module.js");

export const loadDashboard = async (): Promise<(app: FastifyInstance) => void> => {
  const files: [string, string, string][] = [
    ["/", join(here, "index.html"), "text/html; charset=utf-8"],
    ["/ui/app.js", join(here, "app.js"), "text/javascript; charset=utf-8"],
    ["/ui/style.css", join(here, "style.css"), "text/css; charset=utf-8"],
    ["/ui/vendor/htm-preact.js", vendorFile(), "text/javascript; charset=utf-8"],
  ];
  const loaded = await Promise.all(files.map(async ([path, file, type]) => [path, await readFile(file, "utf8"), type] as const));
  return (app) => {
    for (const [path, body, type] of loaded) {
      app.get(path, (_req, reply) => reply.type(type).header("cache-control", "no-cache").send(body));
    }
  };
};
