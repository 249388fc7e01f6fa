/**
 * `npm run typecheck` (and the first step of `npm test`): the whole project checked by TypeScript
 * 7's native compiler, incrementally (build info in node_modules/.cache/tsc). Started from node
 * rather than a nested `npm run`, which alone costs most of a second.
 */
"use strict";
const { spawnSync } = require("node:child_process");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const tsc = path.join(ROOT, "node_modules", "typescript-native", "bin", "tsc");
const buildInfo = path.join(ROOT, "node_modules", ".cache", "tsc", "typecheck.tsbuildinfo");
const result = spawnSync(
  process.execPath,
  [tsc, "--noEmit", "-p", ROOT, "--incremental", "--tsBuildInfoFile", buildInfo],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
