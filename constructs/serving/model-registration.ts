import { createHash } from "node:crypto";
import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { JobV1 } from "@cdktf/provider-kubernetes/lib/job-v1";
import { pullSecrets } from "../platform/image-mirror";
import { RESTRICTED_CONTAINER_SECURITY, restrictedPodSecurity } from "../lib/workload-defaults";

export interface ModelRegistrationProps {
  readonly namespace: string;
  /** An image with python3 (the MLflow server's), through the target's mirror where it has one. */
  readonly image: string;
  /** Existing image pull Secret of the registry the image is in; unset: none needed. */
  readonly imagePullSecret?: string;
  readonly trackingUri: string;
  /** Secret with MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD. */
  readonly credentialsSecret: string;
  /** The registered model and alias the serving Deployment loads. */
  readonly model: { readonly name: string; readonly alias: string };
  /** The version's files in this environment's artifacts bucket. */
  readonly artifactsBucket: string;
  /** Path of the files inside the bucket (the release's `artifactPath`). */
  readonly artifactPath: string;
  /** The version number the release names (recorded as a tag on the version created here). */
  readonly releaseVersion: number;
  /**
   * The artifacts bucket's prefix the MLflow server proxies as `mlflow-artifacts:/`: a version
   * already registered through the server under that form counts as the same files.
   */
  readonly proxiedArtifactPrefix?: string;
  readonly dependsOn?: ITerraformDependable[];
}

/** Tag of a version this Job created: the version number in the release (the producer's). */
export const RELEASE_VERSION_TAG = "mlops.release.version";

/**
 * Makes the served model version exist in this environment's MLflow registry, with the
 * release's alias, through MLflow's REST API 2.0 (Python standard library only):
 * 1. POST registered-models/create (RESOURCE_ALREADY_EXISTS: it exists, go on);
 * 2. GET model-versions/search with `name = '<model>'`, every page, and keep the versions
 *    whose source is one of MODEL_SOURCES (the filter's `source_path` key matches one source
 *    only, and `IN` is not allowed on it);
 * 3. POST model-versions/create with the first source unless step 2 found one (the lowest
 *    version number wins);
 * 4. POST registered-models/alias to that version (the API takes the version as a string).
 * A second run finds the version and only re-sets the alias. Names and sources reach the
 * filter in single quotes: the construct refuses values containing one.
 */
export const REGISTRATION_SCRIPT = [
  "import base64, json, os, sys, urllib.error, urllib.parse, urllib.request",
  'api = os.environ["MLFLOW_TRACKING_URI"].rstrip("/") + "/api/2.0/mlflow/"',
  'name = os.environ["MODEL_NAME"]',
  'alias = os.environ["MODEL_ALIAS"]',
  'sources = os.environ["MODEL_SOURCES"].split()',
  'login = os.environ["MLFLOW_TRACKING_USERNAME"] + ":" + os.environ["MLFLOW_TRACKING_PASSWORD"]',
  'auth = "Basic " + base64.b64encode(login.encode()).decode()',
  "",
  "def call(method, path, body=None, query=None):",
  '    url = api + path + ("?" + urllib.parse.urlencode(query) if query else "")',
  '    headers = {"Authorization": auth, "Accept": "application/json"}',
  "    data = None",
  "    if body is not None:",
  "        data = json.dumps(body).encode()",
  '        headers["Content-Type"] = "application/json"',
  "    request = urllib.request.Request(url, data=data, method=method, headers=headers)",
  "    try:",
  "        with urllib.request.urlopen(request, timeout=30) as response:",
  "            return json.loads(response.read() or b'{}')",
  "    except urllib.error.HTTPError as error:",
  '        text = error.read().decode("utf-8", "replace")',
  "        try:",
  '            code = json.loads(text).get("error_code")',
  "        except ValueError:",
  "            code = None",
  '        if code == "RESOURCE_ALREADY_EXISTS":',
  "            return None",
  '        sys.exit(method + " " + path + ": HTTP " + str(error.code) + " " + text)',
  "",
  'if call("POST", "registered-models/create", {"name": name}) is None:',
  '    print("registered model " + name + " exists")',
  "else:",
  '    print("created registered model " + name)',
  "",
  "found = []",
  'token = ""',
  "while True:",
  '    query = {"filter": "name = \'" + name + "\'", "max_results": "1000"}',
  "    if token:",
  '        query["page_token"] = token',
  '    page = call("GET", "model-versions/search", query=query)',
  '    found += [v for v in page.get("model_versions", []) if v.get("source") in sources]',
  '    token = page.get("next_page_token", "")',
  "    if not token:",
  "        break",
  "",
  "if found:",
  '    version = min(found, key=lambda v: int(v["version"]))["version"]',
  '    print("version " + version + " of " + name + " has the release\'s files")',
  "else:",
  "    body = {",
  '        "name": name,',
  '        "source": sources[0],',
  '        "description": "Registered for the release from " + sources[0],',
  '        "tags": [{"key": os.environ["VERSION_TAG"], "value": os.environ["RELEASE_VERSION"]}],',
  "    }",
  '    version = call("POST", "model-versions/create", body)["model_version"]["version"]',
  '    print("created version " + version + " of " + name + " from " + sources[0])',
  "",
  'call("POST", "registered-models/alias", {"name": name, "alias": alias, "version": str(version)})',
  'print("alias " + alias + " of " + name + " is version " + str(version))',
].join("\n");

/**
 * A one-off Job that registers the served model version in this environment's MLflow with the
 * release's alias (REGISTRATION_SCRIPT), run as the workloads' MLflow user. Its name carries a
 * hash of the model, alias, version and artifact path: a Job's pod template is immutable, so a new release
 * makes a new Job instead of an update Kubernetes would refuse.
 */
export class ModelRegistration extends Construct {
  public readonly job: JobV1;
  /** `s3://<bucket>/<artifactPath>`: the source of the version this Job registers. */
  public readonly source: string;

  constructor(scope: Construct, id: string, props: ModelRegistrationProps) {
    super(scope, id);
    const { model } = props;
    for (const [field, value] of [
      ["model.name", model.name],
      ["artifactPath", props.artifactPath],
    ] as const) {
      if (/['"\\\s]/.test(value)) {
        throw new Error(
          `ModelRegistration: ${field} "${value}" contains a quote, backslash or space, which MLflow's search filter cannot hold; rename it`,
        );
      }
    }
    this.source = `s3://${props.artifactsBucket}/${props.artifactPath}`;
    const prefix = props.proxiedArtifactPrefix;
    const sources = [
      this.source,
      ...(prefix && props.artifactPath.startsWith(`${prefix}/`)
        ? [`mlflow-artifacts:/${props.artifactPath.slice(prefix.length + 1)}`]
        : []),
    ];
    // The bucket is fixed per environment (and a Terraform reference on AWS): not in the hash.
    const name = modelRegistrationJobName(model, props.releaseVersion, props.artifactPath);
    const labels = {
      "app.kubernetes.io/name": "model-registration",
      "app.kubernetes.io/part-of": "mlops-platform",
    };

    this.job = new JobV1(this, "Job", {
      metadata: { name, namespace: props.namespace, labels },
      spec: {
        backoffLimit: 6,
        activeDeadlineSeconds: 900,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: "OnFailure",
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurity(),
            imagePullSecrets: pullSecrets(props.imagePullSecret),
            container: [
              {
                name: "register",
                image: props.image,
                command: ["python3", "-c", REGISTRATION_SCRIPT],
                env: [
                  { name: "HOME", value: "/tmp" },
                  { name: "MLFLOW_TRACKING_URI", value: props.trackingUri },
                  { name: "MODEL_NAME", value: model.name },
                  { name: "MODEL_ALIAS", value: model.alias },
                  { name: "MODEL_SOURCES", value: sources.join(" ") },
                  { name: "RELEASE_VERSION", value: String(props.releaseVersion) },
                  { name: "VERSION_TAG", value: RELEASE_VERSION_TAG },
                ],
                envFrom: [{ secretRef: { name: props.credentialsSecret } }],
                resources: {
                  requests: { cpu: "50m", memory: "64Mi" },
                  limits: { cpu: "200m", memory: "128Mi" },
                },
                securityContext: RESTRICTED_CONTAINER_SECURITY,
                volumeMount: [{ name: "tmp", mountPath: "/tmp" }],
              },
            ],
            volume: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
          },
        },
      },
      waitForCompletion: true,
      timeouts: { create: "15m", update: "15m" },
      dependsOn: props.dependsOn,
    });
  }
}

/** `model-registration-<hash>`: a new name whenever the model, alias, version or artifact path changes. */
export function modelRegistrationJobName(
  model: { readonly name: string; readonly alias: string },
  version: number,
  artifactPath: string,
): string {
  const hash = createHash("sha256")
    .update(JSON.stringify([model.name, model.alias, version, artifactPath]))
    .digest("hex")
    .slice(0, 10);
  return `model-registration-${hash}`;
}
