/** Jest transpiles TypeScript with swc (no type checking: `npm run typecheck` does that). */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  // One worker per core: jest's default keeps a core for its parent process, which idles here
  // (on 2 cores that halves the parallelism; measured 96 s -> 66 s for the whole suite).
  maxWorkers: "100%",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": [
      "@swc/jest",
      { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "commonjs" } },
    ],
  },
  // cdktf captures a stack trace for every token it creates; under jest each one is source-mapped,
  // a third of every synthesis. Tests never read them (see the stand-in's comment).
  moduleNameMapper: {
    // cdktf's requests of its lib/tokens/private/stack-trace module (only cdktf makes them).
    "^(\\./|\\./private/|\\./tokens/private/)stack-trace$":
      "<rootDir>/__tests__/support/token-creation-stack.js",
  },
  setupFilesAfterEnv: ["<rootDir>/__tests__/support/setup.ts"],
  reporters: ["default", "<rootDir>/__tests__/support/summary-reporter.js"],
  snapshotFormat: { escapeString: false, printBasicPrototype: false },
};
