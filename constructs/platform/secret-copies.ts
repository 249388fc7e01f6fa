import { Construct } from "constructs";
import { Fn, Token, type ITerraformDependable } from "cdktf";
import { DataKubernetesSecretV1 } from "@cdktf/provider-kubernetes/lib/data-kubernetes-secret-v1";
import { SecretV1 } from "@cdktf/provider-kubernetes/lib/secret-v1";

const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

/** One Secret the platform team created by hand, and where the platform needs it. */
export interface SecretCopy {
  /** Its name, in the source namespace and in every copy. */
  readonly name: string;
  /** Namespaces that need it (their pods pull with it, mount it or read it). */
  readonly namespaces: readonly string[];
  /** Labels the copies carry (Argo CD resolves `$<secret>:<key>` only from its own labelled Secrets). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Annotations of the copy in one namespace (KServe reads the object store's settings from them). */
  readonly annotationsIn?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * Keys the copy in one namespace carries beside the source's, for values that are not secret
   * (Argo CD's repository Secret names its `url` and `type`). They replace a source key of the same name.
   */
  readonly dataIn?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Why the namespaces need it, for the reader of the plan. */
  readonly purpose: string;
  /**
   * Keys the Secret must hold; checked when the plan reads it, before anything is installed
   * (the check reads what the copy reads anyway, nothing more goes into the state).
   */
  readonly requiredKeys?: readonly string[];
}

export interface SecretCopiesProps {
  /**
   * Namespace where the platform team creates the Secrets an environment names, before the
   * first deploy (it exists before the platform: the state backend's).
   */
  readonly sourceNamespace: string;
  readonly copies: readonly SecretCopy[];
  /** The namespaces the copies go into. */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * Copies Secrets the platform team made by hand into the namespaces the platform creates. The
 * platform creates its namespaces and, in the same apply, starts pods that pull images with the
 * registry's pull Secret and read the object store's keys; nobody could create those Secrets by
 * hand in between. So they are made once, in a namespace that exists before the platform, and
 * each copy is written before anything runs in its namespace (`copies` is what to wait for).
 *
 * The values pass through Terraform's state, which lives in the source namespace itself (the
 * kubernetes state backend): nobody who can read the state could not read the source already.
 * A change of a source Secret reaches the copies at the next apply.
 */
export class SecretCopies extends Construct {
  /** Every copy, to wait for before workloads start. */
  public readonly copies: SecretV1[] = [];

  constructor(scope: Construct, id: string, props: SecretCopiesProps) {
    super(scope, id);
    const seen = new Set<string>();
    for (const copy of props.copies) {
      if (seen.has(copy.name)) {
        throw new Error(
          `SecretCopies: ${copy.name} is listed twice; fix: list every namespace that needs it in one entry`,
        );
      }
      seen.add(copy.name);
      const unresolved = copy.namespaces.find((namespace) => Token.isUnresolved(namespace));
      if (unresolved !== undefined) {
        throw new Error(
          `SecretCopies: ${copy.name} lists a namespace only known at apply time; fix: list namespace names as written (the dependency comes from dependsOn)`,
        );
      }
      const targets = [...new Set(copy.namespaces)].filter(
        (namespace) => namespace !== props.sourceNamespace,
      );
      if (targets.length === 0) continue;
      const keys = [...new Set(copy.requiredKeys ?? [])];
      const badKey = keys.find((key) => !SECRET_KEY.test(key));
      if (badKey !== undefined) {
        throw new Error(
          `SecretCopies: ${copy.name} requires the key ${JSON.stringify(badKey)}; allowed: a Secret key (letters, digits, '-', '_', '.'); fix: name the key as the consumer reads it`,
        );
      }
      const source = new DataKubernetesSecretV1(this, `${copy.name}-source`, {
        metadata: { name: copy.name, namespace: props.sourceNamespace },
        lifecycle:
          keys.length > 0
            ? {
                postcondition: [
                  {
                    condition: `\${alltrue([for key in ${JSON.stringify(keys)} : contains(keys(self.data), key)])}`,
                    errorMessage: `Secret ${props.sourceNamespace}/${copy.name} (${copy.purpose}) must hold the key${keys.length > 1 ? "s" : ""} ${keys.join(", ")}; fix: recreate it with that key (kubectl -n ${props.sourceNamespace} create secret generic ${copy.name} ${keys.map((key) => `--from-literal=${key}=...`).join(" ")}) and plan again`,
                  },
                ],
              }
            : undefined,
      });
      for (const namespace of targets) {
        this.copies.push(
          new SecretV1(this, `${copy.name}-${namespace}`, {
            metadata: {
              name: copy.name,
              namespace,
              labels: { "app.kubernetes.io/managed-by": "terraform", ...copy.labels },
              annotations: {
                "mlops-platform/copied-from": `${props.sourceNamespace}/${copy.name}`,
                "mlops-platform/purpose": copy.purpose,
                ...copy.annotationsIn?.[namespace],
              },
            },
            type: source.type,
            data: (copy.dataIn?.[namespace] === undefined
              ? source.data
              : Fn.merge([source.data, copy.dataIn[namespace]])) as unknown as Record<string, string>,
            dependsOn: props.dependsOn,
          }),
        );
      }
    }
  }
}
