#!/usr/bin/env node
// The `weir` command: registers the TypeScript loader for both module systems (so job modules
// run without a build step, inside or outside an ESM package), then hands over to the CLI.
import { register as registerEsm } from "tsx/esm/api";
import { register as registerCjs } from "tsx/cjs/api";

registerEsm();
registerCjs();
const { main } = await import("../engine/cli/main.ts");
const code = await main(process.argv);
// Exit now: a finished or failed job must not linger on a client library's reconnect timers.
process.exit(code);
