/**
 * The HTTP server `weir run` starts next to its job (fastify): the REST API shaped like Flink's
 * (flink-views.ts), Prometheus metrics at /metrics (prometheus.ts) and the control calls
 * (stop with a final checkpoint, cancel).
 *
 * Contract:
 * - Reads never touch the running subtasks: they render the JobStatus, whose counters are
 *   re-sampled once a second by this server's timer.
 * - Every error is JSON `{ "errors": [...] }` with a 4xx status for a bad request (unknown path,
 *   job or vertex, malformed body or query), as Flink's are; nothing a client sends can fail the
 *   job. A mutating call (stop, cancel) only asks the run to stop; the run decides how.
 * - When `token` is set (the server listens beyond loopback), a mutating call without
 *   `Authorization: Bearer <token>` is refused with 401 and has no effect.
 * - `listen` tries `port`, then the next ports up to 19 above it when one is taken, then any free
 *   port (0: any free port at once).
 */
import { timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { JobStatus, VertexInfo } from "./job-status.ts";
import {
  checkpointDetails,
  checkpointsView,
  exceptionsView,
  jobDetails,
  jobsList,
  jobsOverview,
  vertexBackpressure,
  vertexDetails,
  vertexWatermarks,
} from "./flink-views.ts";
import { prometheusRegistry } from "./prometheus.ts";

/** What the REST API may ask of the run. */
export interface JobControl {
  /**
   * Stop with a final checkpoint, sinks committed (as SIGTERM); with `savepointTarget`, that
   * checkpoint is also copied into a savepoint there.
   */
  stop(savepointTarget?: string): void;
  /** Stop at once, without a checkpoint: the next run resumes from the latest completed one. */
  cancel(): void;
  /** A savepoint into `target` (default: the run's savepoint directory): resolves with its path. */
  savepoint(target?: string): Promise<string>;
  /** Where the job stopped once it has: the savepoint it was stopped with, else its final checkpoint's directory. */
  finalCheckpoint(): string | undefined;
}

export interface StatusServerOptions {
  readonly status: JobStatus;
  readonly control: JobControl;
  readonly host: string;
  readonly port: number;
  /** Required on every mutating call when set. */
  readonly token?: string;
  readonly now?: () => number;
  /** Milliseconds between samples of the counters (default 1000). */
  readonly sampleEveryMs?: number;
  /** Extra routes (the dashboard's page and assets). */
  readonly extend?: (app: FastifyInstance) => void;
}

export interface StatusServer {
  /** `http://host:port` as a client reaches it. */
  readonly address: string;
  readonly port: number;
  /**
   * Resolves once every stop requested through the API has been reported COMPLETED to a client
   * that asked (so `weir stop` learns the final checkpoint before the server goes), or after
   * `timeoutMs`.
   */
  answered(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** A 4xx with Flink's error body. */
class RequestError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const PORT_TRIES = 20;

export const isLoopback = (host: string): boolean => host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);

export const startStatusServer = async (options: StatusServerOptions): Promise<StatusServer> => {
  const { status, control } = options;
  const now = options.now ?? Date.now;
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    // Errors the router raises before any handler (a malformed URL): the same JSON body.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).code(400).type("application/json").send({ errors: [error.message] });
    },
  });
  const registry = prometheusRegistry(status, now);
  /**
   * Stops and savepoints asked for: Flink answers both with a request id whose state can be asked
   * for (GET /jobs/:jid/savepoints/:rid). A stop is done when the job has ended.
   */
  type Operation = { readonly kind: "stop" } | { kind: "savepoint"; location?: string; failure?: string };
  const requests = new Map<string, Operation>();
  /** Stop requests whose completion no client has seen yet. */
  const unanswered = new Set<string>();
  let onAnswered: (() => void) | undefined;
  let nextRequest = 1;

  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    const code = error instanceof RequestError ? error.statusCode : error.statusCode !== undefined && error.statusCode < 500 ? error.statusCode : 500;
    void reply.code(code).type("application/json").send({ errors: [error.message] });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).type("application/json").send({ errors: [`Not found: ${request.method} ${request.url}`] });
  });

  const job = (request: FastifyRequest): JobStatus => {
    const { jid } = request.params as { jid: string };
    if (jid !== status.id && jid !== status.name) throw new RequestError(404, `Job ${jid} not found (this server runs job ${status.id}, '${status.name}')`);
    return status;
  };
  const vertex = (request: FastifyRequest): VertexInfo => {
    const s = job(request);
    const { vid } = request.params as { vid: string };
    const v = s.vertices.find((x) => x.id === vid || x.name === vid || String(x.index) === vid);
    if (v === undefined) throw new RequestError(404, `Vertex ${vid} not found in job ${s.id}; its vertices: ${s.vertices.map((x) => x.id).join(", ")}`);
    return v;
  };
  /**
   * A mutating call must be JSON (a cross-site form or a body-less "simple" POST cannot send it
   * without a preflight this server never answers), must not come from another site's page
   * (Origin, when a browser sends one, names this server), and carries the token when one is set.
   */
  const authorize = (request: FastifyRequest) => {
    if (request.method === "POST" && !/^application\/json\b/i.test(request.headers["content-type"] ?? "")) {
      throw new RequestError(415, "this call takes a JSON body (Content-Type: application/json), e.g. {}");
    }
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== "null") {
      let host: string | undefined;
      try {
        host = new URL(origin).host;
      } catch {
        host = undefined;
      }
      if (host !== request.headers.host) throw new RequestError(403, `a page from ${origin} may not steer this job`);
    }
    if (options.token === undefined) return;
    const header = request.headers.authorization ?? "";
    const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
    const expected = Buffer.from(options.token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new RequestError(401, "this call needs the job's token: Authorization: Bearer <token> (the token file is named at start)");
    }
  };
  const json = (reply: FastifyReply, body: unknown) => reply.type("application/json").send(body);

  app.get("/config", (_req, reply) =>
    json(reply, {
      "refresh-interval": options.sampleEveryMs ?? 1000,
      "timezone-name": "UTC",
      "flink-version": null,
      "mutations-need-token": options.token !== undefined,
    }),
  );
  app.get("/overview", (_req, reply) =>
    json(reply, {
      taskmanagers: 1,
      "slots-total": Math.max(...status.vertices.map((v) => v.parallelism)),
      "jobs-running": status.isEnded ? 0 : 1,
      "jobs-finished": status.state === "FINISHED" ? 1 : 0,
      "jobs-cancelled": status.state === "CANCELED" ? 1 : 0,
      "jobs-failed": status.state === "FAILED" ? 1 : 0,
    }),
  );
  app.get("/jobs", (_req, reply) => json(reply, jobsList([status])));
  app.get("/jobs/overview", (_req, reply) => json(reply, jobsOverview([status], now())));
  app.get("/jobs/:jid", (req, reply) => json(reply, jobDetails(job(req), now())));
  app.get("/jobs/:jid/vertices/:vid", (req, reply) => json(reply, vertexDetails(status, vertex(req), now())));
  app.get("/jobs/:jid/vertices/:vid/backpressure", (req, reply) => json(reply, vertexBackpressure(status, vertex(req), now())));
  app.get("/jobs/:jid/vertices/:vid/watermarks", (req, reply) => json(reply, vertexWatermarks(status, vertex(req))));
  app.get("/jobs/:jid/checkpoints", (req, reply) => json(reply, checkpointsView(job(req))));
  app.get("/jobs/:jid/checkpoints/details/:cid", (req, reply) => {
    const s = job(req);
    const { cid } = req.params as { cid: string };
    const entry = /^\d+$/.test(cid) ? s.checkpoints.find((c) => c.id === Number(cid)) : undefined;
    if (entry === undefined) throw new RequestError(404, `Checkpoint ${cid} not found in the history of job ${s.id}`);
    return json(reply, checkpointDetails(s, entry));
  });
  app.get("/jobs/:jid/exceptions", (req, reply) => json(reply, exceptionsView(job(req))));

  // Flink: PATCH /jobs/:jid?mode=cancel (202).
  app.patch("/jobs/:jid", (req, reply) => {
    const s = job(req);
    const { mode } = (req.query ?? {}) as { mode?: unknown };
    if (mode !== undefined && mode !== "cancel") throw new RequestError(400, `mode must be 'cancel', got '${String(mode)}'`);
    authorize(req);
    if (s.isEnded) throw new RequestError(409, `Job ${s.id} has already ended (${s.state})`);
    control.cancel();
    return reply.code(202).type("application/json").send({});
  });
  const bodyObject = (req: FastifyRequest): Record<string, unknown> => {
    const body = req.body === undefined ? {} : req.body;
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new RequestError(400, "the body must be a JSON object");
    return body as Record<string, unknown>;
  };
  const directory = (value: unknown, field: string): string | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string" || value.trim() === "" || value.includes("\0")) throw new RequestError(400, `${field} must be a directory path`);
    return value;
  };
  // Flink: POST /jobs/:jid/stop { targetDirectory?, drain? } -> { request-id }.
  app.post("/jobs/:jid/stop", (req, reply) => {
    const s = job(req);
    const { targetDirectory, drain } = bodyObject(req);
    const target = directory(targetDirectory, "targetDirectory");
    if (drain !== undefined && drain !== false) throw new RequestError(400, "drain: only drain=false is supported (the job stops at a checkpoint, keeping its state)");
    authorize(req);
    if (s.isEnded) throw new RequestError(409, `Job ${s.id} has already ended (${s.state})`);
    control.stop(target);
    const id = `stop-${nextRequest++}`;
    requests.set(id, { kind: "stop" });
    unanswered.add(id);
    return reply.code(202).type("application/json").send({ "request-id": id });
  });
  // Flink: POST /jobs/:jid/savepoints { target-directory?, cancel-job? } -> { request-id }.
  app.post("/jobs/:jid/savepoints", (req, reply) => {
    const s = job(req);
    const body = bodyObject(req);
    const target = directory(body["target-directory"], "target-directory");
    if (body["cancel-job"] !== undefined && body["cancel-job"] !== false) {
      throw new RequestError(400, "cancel-job: use POST /jobs/:id/stop with a targetDirectory to stop with a savepoint");
    }
    authorize(req);
    if (s.isEnded) throw new RequestError(409, `Job ${s.id} has already ended (${s.state})`);
    const id = `savepoint-${nextRequest++}`;
    const operation: Operation = { kind: "savepoint" };
    requests.set(id, operation);
    control.savepoint(target).then(
      (location) => (operation.location = location),
      (e: unknown) => (operation.failure = e instanceof Error ? e.message : String(e)),
    );
    return reply.code(202).type("application/json").send({ "request-id": id });
  });
  app.get("/jobs/:jid/savepoints/:rid", (req, reply) => {
    const s = job(req);
    const { rid } = req.params as { rid: string };
    const operation = requests.get(rid);
    if (operation === undefined) throw new RequestError(404, `No request ${rid} for job ${s.id}`);
    if (operation.kind === "savepoint") {
      if (operation.location !== undefined) return json(reply, { status: { id: "COMPLETED" }, operation: { location: operation.location } });
      if (operation.failure !== undefined) {
        return json(reply, { status: { id: "COMPLETED" }, operation: { "failure-cause": { class: "SAVEPOINT_FAILED", "stack-trace": operation.failure } } });
      }
      return json(reply, { status: { id: "IN_PROGRESS" } });
    }
    if (!s.isEnded) return json(reply, { status: { id: "IN_PROGRESS" } });
    const location = control.finalCheckpoint();
    unanswered.delete(rid);
    if (unanswered.size === 0) onAnswered?.();
    return json(reply, {
      status: { id: "COMPLETED" },
      operation:
        s.outcome === "stopped" || s.outcome === "finished"
          ? { location: location ?? null }
          : { "failure-cause": { class: s.state, "stack-trace": s.exceptions[0]?.stack ?? `the job ended ${s.state}` } },
    });
  });

  // Read from the latest sample (taken by the timer): a scrape must not shorten the rate window.
  app.get("/metrics", async (_req, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });

  options.extend?.(app);

  const sampler = setInterval(() => status.sample(now()), options.sampleEveryMs ?? 1000);
  sampler.unref();

  let port = options.port;
  for (let attempt = 0; ; attempt++) {
    try {
      await app.listen({ host: options.host, port });
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "EADDRINUSE" || port === 0) {
        clearInterval(sampler);
        await app.close().catch(() => undefined);
        throw e;
      }
      // Past PORT_TRIES taken ports, any free one (the address is printed and listed either way).
      port = attempt + 1 >= PORT_TRIES ? 0 : port + 1;
    }
  }
  const bound = app.server.address();
  const actual = typeof bound === "object" && bound !== null ? bound.port : port;
  const shownHost = options.host === "0.0.0.0" || options.host === "::" ? "localhost" : options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    address: `http://${shownHost}:${actual}`,
    port: actual,
    answered: async (timeoutMs) => {
      if (unanswered.size === 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        onAnswered = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
    close: async () => {
      clearInterval(sampler);
      await app.close();
    },
  };
};
