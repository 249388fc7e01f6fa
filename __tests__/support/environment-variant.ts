/** Variants of the registry's environment files, for tests of bad input. */
import type { EnvironmentInput } from "../../environments/schema";

/** An environment file as a test may change it, field by field. */
export type Mutable = any;
/** A deep copy of an environment, changed by `change`. */
export function variant(base: EnvironmentInput, change: (env: Mutable) => void): EnvironmentInput {
  const copy = structuredClone(base) as Mutable;
  change(copy);
  return copy;
}
