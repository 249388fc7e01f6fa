/**
 * Runs the cdktf app from a compiled copy in `.build/`: every TypeScript source of the app
 * (main.ts, constructs/, stacks/, environments/) is transpiled with swc (no type check; `npm
 * test` runs tsc) only when its content changed since the last run, then `.build/main.js` runs in
 * this process. A warm run costs a hash of each source, so synthesis runs at the speed of node
 * on compiled JavaScript.
 *
 *   node scripts/run-app.js            # build what changed, then synthesize
 *   node scripts/run-app.js --build    # build what changed only
 */
"use strict";
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
/** Where the compiled copy goes; inside the project, so it resolves node_modules and finds the project's data. */
const DEFAULT_OUT = path.join(ROOT, ".build");
const SOURCE_FOLDERS = ["constructs", "stacks", "environments"];

/** The app's TypeScript sources, relative to the project root (tests excluded). */
function sources() {
  const found = ["main.ts"];
  const walk = (folder) => {
    for (const entry of fs.readdirSync(path.join(ROOT, folder), { withFileTypes: true })) {
      const relative = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(relative);
      else if (
        entry.name.endsWith(".ts") &&
        !entry.name.endsWith(".test.ts") &&
        !entry.name.endsWith(".d.ts")
      )
        found.push(relative);
    }
  };
  SOURCE_FOLDERS.forEach(walk);
  return found.sort();
}

/** A source that does not parse, with the file, line and column swc reports and its reason. */
class SourceSyntaxError extends Error {
  constructor(source, error) {
    const text = String(error && error.message ? error.message : error);
    const where = /\[([^\]]+):(\d+):(\d+)\]/.exec(text);
    const reason = (/^\s*[x×]\s+(.+)$/m.exec(text) || [])[1] || "syntax error";
    super(
      `${where ? `${where[1]}:${where[2]}:${where[3]}` : source}: ${reason.trim()}; fix: correct the TypeScript syntax at that spot`,
    );
    this.name = "SourceSyntaxError";
  }
}

function readManifest(manifest) {
  try {
    return JSON.parse(fs.readFileSync(manifest, "utf8"));
  } catch {
    return {};
  }
}

/**
 * Transpiles the sources whose content changed into `out`; removes outputs of deleted sources.
 * Returns how many files it compiled.
 */
function build(out = DEFAULT_OUT) {
  const manifest = path.join(out, "manifest.json");
  const previous = readManifest(manifest);
  const next = {};
  let swc;
  let compiled = 0;
  for (const source of sources()) {
    const text = fs.readFileSync(path.join(ROOT, source), "utf8");
    const hash = createHash("sha256").update(text).digest("hex");
    const output = path.join(out, source.replace(/\.ts$/, ".js"));
    next[source] = hash;
    if (previous[source] === hash && fs.existsSync(output)) continue;
    swc ??= require("@swc/core");
    let code;
    try {
      ({ code } = swc.transformSync(text, {
        filename: source,
        jsc: { parser: { syntax: "typescript" }, target: "es2022" },
        module: { type: "commonjs" },
        sourceMaps: "inline",
      }));
    } catch (error) {
      throw new SourceSyntaxError(source, error);
    }
    fs.mkdirSync(path.dirname(output), { recursive: true });
    fs.writeFileSync(output, code);
    compiled += 1;
  }
  for (const source of Object.keys(previous))
    if (!(source in next)) fs.rmSync(path.join(out, source.replace(/\.ts$/, ".js")), { force: true });
  if (compiled > 0 || Object.keys(previous).length !== Object.keys(next).length) {
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(manifest, `${JSON.stringify(next, null, 2)}\n`);
  }
  return compiled;
}

module.exports = { build, sources };

/**
 * Source maps only when an error needs them: with them on, every stack trace cdktf captures
 * (one per token) is mapped back to TypeScript, which costs a large share of a synthesis. A run
 * that throws is run again once with them on (`--enable-source-maps`), so the error the user
 * reads points at the TypeScript sources; validation problems are printed as lines, never thrown.
 */
function runApp() {
  const mapped = process.execArgv.includes("--enable-source-maps");
  try {
    require(path.join(DEFAULT_OUT, "main.js"));
  } catch (error) {
    if (mapped) throw error;
    const { spawnSync } = require("node:child_process");
    const again = spawnSync(
      process.execPath,
      ["--enable-source-maps", __filename, ...process.argv.slice(2)],
      {
        stdio: "inherit",
      },
    );
    if (again.status === 0) throw error;
    process.exit(again.status ?? 1);
  }
}

module.exports.runApp = runApp;

if (require.main === module) {
  try {
    build();
  } catch (error) {
    if (!(error instanceof SourceSyntaxError)) throw error;
    // The message synthesis prints for bad input: one line, no stack trace, nothing written.
    process.stderr.write(
      `Synthesis stopped (1 problem); the output folder was left as it was:\n  - ${error.message}\n`,
    );
    process.exit(1);
  }
  if (!process.argv.includes("--build")) runApp();
}
