import { runSynthesis } from "./stacks/synthesize";

// Every stack of every environment. The registry is imported inside runSynthesis, so a syntax
// error in an environment file is one line with file and line; bad input writes no stack at all.
void runSynthesis(async () => (await import("./environments")).ENVIRONMENTS).then((run) => {
  process.stdout.write(run.stdout);
  process.stderr.write(run.stderr);
  process.exitCode = run.exitCode;
});
