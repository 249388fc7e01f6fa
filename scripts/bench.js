/**
 * `npm run bench`: how fast the inner loop is on this machine, as a table and as JSON.
 *
 * - synth: `npm run synth`'s work (the launcher's change check, then the compiled app) for every
 *   stack of the registry: median of 5 runs after a warm-up, and the peak memory;
 * - floor: node running the compiled app directly, same output;
 * - 5 and 30 generated AWS environments: time per stack (the synthesis alone, start-up left out)
 *   and peak memory, to show synthesis scales linearly;
 * - tests: wall time and peak memory (all of its processes together) of `npm test` (type check,
 *   then the unit layer) and of `npm run test:integration`, unless `--no-tests`.
 *
 *   npm run bench [-- --no-tests] [-- --json]
 */
"use strict";
const { spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { build } = require("./run-app.js");

const ROOT = path.resolve(__dirname, "..");
const BUILD = path.join(ROOT, ".build");
const RUNS = 5;

/** Runs one measured child; it reports its peak memory on its last stderr line. */
function measure(mode, extra = []) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
  const started = process.hrtime.bigint();
  const run = spawnSync(
    process.execPath,
    [__filename, "--child", mode, path.join(outdir, "cdktf.out"), ...extra],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, CHECKPOINT_DISABLE: "1" },
    },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  fs.rmSync(outdir, { recursive: true, force: true });
  const report = /BENCH (\{.*\})\s*$/.exec(run.stderr);
  if (run.status !== 0 || !report) throw new Error(`bench ${mode} failed:\n${run.stderr}${run.stdout}`);
  return { seconds, ...JSON.parse(report[1]) };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function repeated(mode, extra) {
  measure(mode, extra); // warm-up: file cache, compiled copy
  const runs = Array.from({ length: RUNS }, () => measure(mode, extra));
  return {
    seconds: median(runs.map((r) => r.seconds)),
    synthSeconds: median(runs.map((r) => r.synthSeconds)),
    peakMiB: Math.max(...runs.map((r) => r.peakMiB)),
    stacks: runs[0].stacks,
  };
}

/** Copies of dev with their own names, ranges, accounts, buckets and domains. */
function generatedEnvironments(dev, count) {
  return Array.from({ length: count }, (_, index) => {
    const name = `bench-${String(index + 1).padStart(3, "0")}`;
    const account = String(200000000000 + index);
    const env = JSON.parse(JSON.stringify(dev).replaceAll("111111111111", account));
    env.name = name;
    env.network.vpcCidr = `10.${100 + index}.0.0/16`;
    env.storage.artifactsBucket = `acme-mlops-${name}-artifacts`;
    env.storage.dataBucket = `acme-mlops-${name}-data`;
    env.platform.domain = `mlops.${name}.example.com`;
    return env;
  });
}

/** The child side: does the work of one mode and reports its peak memory. */
function child(mode, outdir, extra) {
  process.env.CDKTF_OUTDIR = outdir;
  let stacks = 0;
  let synthSeconds = 0;
  const done = () => {
    const peakMiB = process.resourceUsage().maxRSS / 1024;
    process.stderr.write(`BENCH ${JSON.stringify({ peakMiB: Math.round(peakMiB), stacks, synthSeconds })}\n`);
  };
  if (mode === "synth" || mode === "floor") {
    if (mode === "synth") build();
    const { runSynthesis } = require(path.join(BUILD, "stacks", "synthesize.js"));
    const { ENVIRONMENTS } = require(path.join(BUILD, "environments", "index.js"));
    return runSynthesis(() => ENVIRONMENTS).then((run) => {
      if (run.exitCode !== 0) throw new Error(run.stderr);
      stacks = fs.readdirSync(path.join(outdir, "stacks")).length;
      done();
    });
  }
  const count = Number(extra[0]);
  const releases = fs.mkdtempSync(path.join(os.tmpdir(), "bench-releases-"));
  const environments = generatedEnvironments(require(path.join(BUILD, "environments", "dev.js")).dev, count);
  for (const env of environments)
    fs.copyFileSync(
      path.join(ROOT, "environments", "releases", "dev.json"),
      path.join(releases, `${env.name}.json`),
    );
  const { synthesizeAll } = require(path.join(BUILD, "stacks", "synthesize.js"));
  // Per stack: the synthesis itself, without node's and the libraries' start-up.
  const started = process.hrtime.bigint();
  const result = synthesizeAll(environments, { outdir, releasesDirectory: releases });
  synthSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  fs.rmSync(releases, { recursive: true, force: true });
  if (!result.ok) throw new Error(result.problems.join("\n"));
  stacks = result.stacks.length;
  done();
  return Promise.resolve();
}

/** `npm run synth` as a user runs it: npm's own start-up included (wall time only). */
function npmSynth() {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-npm-"));
  const once = () => {
    const started = process.hrtime.bigint();
    const run = spawnSync("npm", ["run", "synth", "--silent"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, CHECKPOINT_DISABLE: "1", CDKTF_OUTDIR: path.join(outdir, "cdktf.out") },
    });
    if (run.status !== 0) throw new Error(`npm run synth failed:\n${run.stderr}`);
    return Number(process.hrtime.bigint() - started) / 1e9;
  };
  once();
  const seconds = median(Array.from({ length: RUNS }, once));
  fs.rmSync(outdir, { recursive: true, force: true });
  return { seconds };
}

/** Resident memory of a process and all its descendants, in bytes (Linux /proc; 0 elsewhere). */
function treeResidentBytes(rootPid) {
  let entries;
  try {
    entries = fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return 0;
  }
  const parentOf = new Map();
  const rss = new Map();
  for (const pid of entries) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      // Fields after the command name (which may hold spaces): state, ppid, ...; rss is field 24.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parentOf.set(Number(pid), Number(fields[1]));
      rss.set(Number(pid), Number(fields[21]) * 4096);
    } catch {
      // The process ended while being read.
    }
  }
  const inTree = (pid) => {
    for (let current = pid; current > 1; current = parentOf.get(current) ?? 0) {
      if (current === rootPid) return true;
    }
    return false;
  };
  let total = 0;
  for (const [pid, bytes] of rss) if (inTree(pid)) total += bytes;
  return total;
}

/** Runs an npm script, sampling the memory of all its processes; resolves with wall time and peak. */
function testRun(script) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn("npm", ["run", "--silent", script], {
      cwd: ROOT,
      stdio: "ignore",
      env: { ...process.env, CHECKPOINT_DISABLE: "1" },
    });
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, treeResidentBytes(child.pid));
    }, 100);
    child.on("exit", (code) => {
      clearInterval(sampler);
      resolve({
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        peakMiB: Math.round(peak / 2 ** 20),
        ok: code === 0,
      });
    });
  });
}

async function testSuites() {
  await testRun("typecheck"); // warm-up: the incremental type check's build info
  return { unit: await testRun("test"), integration: await testRun("test:integration") };
}

async function main() {
  const argv = process.argv.slice(2);
  build();
  const synth = repeated("synth");
  const floor = repeated("floor");
  const viaNpm = npmSynth();
  const scale = Object.fromEntries(
    [5, 30].map((count) => {
      const result = repeated("generated", [String(count)]);
      return [count, { ...result, perStackMs: (result.synthSeconds * 1000) / result.stacks }];
    }),
  );
  const tests = argv.includes("--no-tests") ? undefined : await testSuites();
  const report = {
    machine: {
      cpus: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    synth: { ...synth, ratioToFloor: synth.seconds / floor.seconds },
    npmRunSynth: { ...viaNpm, ratioToFloor: viaNpm.seconds / floor.seconds },
    floor,
    generated: scale,
    perStackRatio30to5: scale[30].perStackMs / scale[5].perStackMs,
    tests,
  };
  if (argv.includes("--json")) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const row = (label, value, detail) =>
    `| ${label.padEnd(34)} | ${value.padStart(9)} | ${detail.padEnd(28)} |`;
  const lines = [
    `${report.machine.cpus} cores, ${report.machine.memoryGiB} GiB, node ${report.machine.node}; median of ${RUNS} runs after a warm-up`,
    "",
    row("measure", "value", "detail"),
    row("-".repeat(34), "-".repeat(9), "-".repeat(28)),
    row(`synth, ${synth.stacks} stacks`, `${synth.seconds.toFixed(2)} s`, `peak ${synth.peakMiB} MiB`),
    row("floor (node on the compiled app)", `${floor.seconds.toFixed(2)} s`, `peak ${floor.peakMiB} MiB`),
    row("synth / floor", report.synth.ratioToFloor.toFixed(2), "target <= 1.30"),
    row(
      "npm run synth (npm's start-up too)",
      `${viaNpm.seconds.toFixed(2)} s`,
      `${report.npmRunSynth.ratioToFloor.toFixed(2)} x floor`,
    ),
    ...[5, 30].map((count) =>
      row(
        `${count} generated environments`,
        `${scale[count].perStackMs.toFixed(0)} ms`,
        `per stack, ${scale[count].stacks} stacks, peak ${scale[count].peakMiB} MiB`,
      ),
    ),
    row("per stack, 30 / 5", report.perStackRatio30to5.toFixed(2), "target <= 1.10"),
    ...(tests
      ? [
          row(
            "npm test (type check + unit)",
            `${tests.unit.seconds.toFixed(1)} s`,
            `peak ${tests.unit.peakMiB} MiB${tests.unit.ok ? "" : ", FAILED"}`,
          ),
          row(
            "npm run test:integration",
            `${tests.integration.seconds.toFixed(1)} s`,
            `peak ${tests.integration.peakMiB} MiB${tests.integration.ok ? "" : ", FAILED"}`,
          ),
        ]
      : []),
    "",
    "JSON:",
    JSON.stringify(report),
    "",
  ];
  process.stdout.write(lines.join("\n"));
}

module.exports = { generatedEnvironments, treeResidentBytes };

if (require.main !== module) {
  // Required for its helpers (tests).
} else if (process.argv[2] === "--child") {
  Promise.resolve()
    .then(() => child(process.argv[3], process.argv[4], process.argv.slice(5)))
    .catch((error) => {
      process.stderr.write(`${error.stack ?? error}\n`);
      process.exit(1);
    });
} else {
  main().catch((error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
  });
}
