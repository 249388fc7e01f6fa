/**
 * Two layers of tests, both transpiled by swc (no type checking: `npm run typecheck` does that):
 * - unit (`npm test`): schemas, constructs and the synthesized stacks, in process, no tool run;
 * - integration (`npm run test:integration`): tests that run real tools or whole programs on
 *   their output: helm and kubectl on the pinned charts and manifests, promtool and amtool,
 *   python3 against a stand-in MLflow, the app and the scaffold as processes.
 * CI runs both (`npm run test:all` runs both in one jest run).
 */
const shared = {
  testEnvironment: "node",
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
  snapshotFormat: { escapeString: false, printBasicPrototype: false },
};

/** @type {import('jest').Config} */
module.exports = {
  // One worker per core: jest's default keeps a core for its parent process, which idles here
  // (on 2 cores that halves the parallelism; measured 96 s -> 66 s for the whole suite).
  maxWorkers: "100%",
  // Tests that run helm, kubectl, promtool or python3 wait on a process; on a shared 2-core
  // runner jest's 5 s default fails them for load, not for what they check.
  testTimeout: 60_000,
  reporters: ["default", "<rootDir>/__tests__/support/summary-reporter.js"],
  projects: [
    {
      ...shared,
      displayName: "unit",
      roots: ["<rootDir>/__tests__"],
      testPathIgnorePatterns: ["/node_modules/", "<rootDir>/__tests__/integration/"],
    },
    { ...shared, displayName: "integration", roots: ["<rootDir>/__tests__/integration"] },
  ],
};
