/** One problem verify reports: where, what is wrong, and the fix. */
export interface Finding {
  readonly environment: string;
  /** Stack and Terraform resource the object comes from. */
  readonly source: string;
  /** `Deployment mlflow/mlflow` */
  readonly object: string;
  /** Name of the rule (or stage: render, collect) that found it. */
  readonly rule: string;
  readonly severity: "error" | "warning";
  readonly message: string;
  readonly fix: string;
}
