import { App } from "cdktf";
import { ENVIRONMENTS } from "./environments";
import { loadEnvironments } from "./environments/load";
import { addEnvironmentStacks } from "./stacks/app";

// Validate every environment before building anything: bad input writes no stack at all.
const result = loadEnvironments(ENVIRONMENTS);
if (!result.ok) {
  process.stderr.write(
    `Environment configuration is invalid (${result.problems.length} problem${result.problems.length === 1 ? "" : "s"}); nothing was synthesized:\n` +
      result.problems.map((problem) => `  - ${problem}\n`).join(""),
  );
  process.exit(1);
}

const app = new App();
addEnvironmentStacks(app, result.environments);
app.synth();
