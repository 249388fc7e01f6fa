import { ENVIRONMENTS } from "./environments";
import { describeProblems, synthesizeAll } from "./stacks/synthesize";

// Every stack of every environment; bad input writes no stack at all.
const result = synthesizeAll(ENVIRONMENTS);
if (!result.ok) {
  process.stderr.write(describeProblems(result.problems));
  process.exitCode = 1;
}
