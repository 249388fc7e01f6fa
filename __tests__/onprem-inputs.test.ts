/**
 * Bad on-prem input a platform engineer can write: each stops `npm run synth` with exit code 1
 * and one line naming the environment, the field, the value, the rule and the fix, in the same
 * form as AWS input; the output folder is left as it was.
 */
import { ENVIRONMENTS } from "../environments";
import { onPremProd } from "../environments/onprem-prod";
import { onPremTest } from "../environments/onprem-test";
import type { RancherEnvironmentInput } from "../environments/rancher-schema";
import { expectOneProblem } from "./support/failed-synthesis";

type Mutable = any;
/** The registry with one on-prem environment changed. */
function registryWith(
  base: RancherEnvironmentInput,
  change: (env: Mutable) => void,
): () => readonly unknown[] {
  const copy = structuredClone(base) as Mutable;
  change(copy);
  return () => ENVIRONMENTS.map((env) => (env.name === base.name ? copy : env));
}

const CASES: [string, () => readonly unknown[], string | RegExp][] = [
  [
    "a missing kubeconfig context",
    registryWith(onPremTest, (e) => delete e.cluster.kubeconfigContext),
    "onprem-test: cluster.kubeconfigContext is missing; fix: add cluster.kubeconfigContext",
  ],
  [
    "a kubeconfig context with a space",
    registryWith(onPremTest, (e) => (e.cluster.kubeconfigContext = "rancher test")),
    'onprem-test: cluster.kubeconfigContext = "rancher test": must be a kubeconfig context name',
  ],
  [
    "a plain ldap:// directory URL",
    registryWith(onPremProd, (e) => (e.directory.url = "ldap://ad.example.com:389")),
    'onprem-prod: directory.url = "ldap://ad.example.com:389": must be ldaps://<host>[:<port 1-65535>] with no path but an optional trailing /',
  ],
  [
    "a directory URL with a path",
    registryWith(onPremTest, (e) => (e.directory.url = "ldaps://ad.example.com/DC=example")),
    'onprem-test: directory.url = "ldaps://ad.example.com/DC=example": carries the path /DC=example; Dex\'s LDAP connector takes only the host and port',
  ],
  [
    "a user base DN that is not a distinguished name",
    registryWith(onPremTest, (e) => (e.directory.userBaseDn = "People.example.com")),
    'onprem-test: directory.userBaseDn = "People.example.com": must be a distinguished name such as OU=People,DC=example,DC=com',
  ],
  [
    "a missing bind password Secret name",
    registryWith(onPremTest, (e) => delete e.directory.bindPasswordSecret.name),
    "onprem-test: directory.bindPasswordSecret.name is missing; fix: add directory.bindPasswordSecret.name",
  ],
  [
    "a missing object store credentials Secret",
    registryWith(onPremProd, (e) => delete e.objectStore.credentialsSecret),
    "onprem-prod: objectStore.credentialsSecret is missing; fix: add objectStore.credentialsSecret",
  ],
  [
    "a pull Secret name with capitals",
    registryWith(onPremTest, (e) => (e.registry.pullSecretName = "Artifactory-Pull")),
    'onprem-test: registry.pullSecretName = "Artifactory-Pull": must be a Kubernetes object name',
  ],
  [
    "an Artifactory host with a scheme",
    registryWith(onPremTest, (e) => (e.registry.host = "https://artifactory.example.com")),
    'onprem-test: registry.host = "https://artifactory.example.com": must be a lower-case DNS name with an optional :port (1-65535), no scheme or path',
  ],
  [
    "an Artifactory host with a path",
    registryWith(onPremProd, (e) => (e.registry.host = "artifactory.example.com/docker-remote")),
    'onprem-prod: registry.host = "artifactory.example.com/docker-remote": must be a lower-case DNS name with an optional :port (1-65535), no scheme or path',
  ],
  [
    "an empty GPU node label value",
    registryWith(onPremTest, (e) => (e.cluster.gpuNodes.labelValue = "")),
    'onprem-test: cluster.gpuNodes.labelValue = "": must be a non-empty label value',
  ],
  [
    "a GPU node label key with a space",
    registryWith(onPremTest, (e) => (e.cluster.gpuNodes.labelKey = "gpu node")),
    'onprem-test: cluster.gpuNodes.labelKey = "gpu node": must be a Kubernetes label key',
  ],
  [
    "an object store reached over plain HTTP",
    registryWith(onPremTest, (e) => (e.objectStore.endpoint = "http://s3.example.com")),
    'onprem-test: objectStore.endpoint = "http://s3.example.com": must be an https:// URL with no path',
  ],
  [
    "a protected environment with one database instance",
    registryWith(onPremProd, (e) => (e.database.instances = 1)),
    "onprem-prod: database.instances = 1: must be 3 or more in a protected environment",
  ],
  [
    "a target other than Rancher",
    registryWith(onPremTest, (e) => (e.target = "openshift")),
    'onprem-test: target = "openshift": must be "rancher" for an on-prem environment',
  ],
  [
    "a chart repository without an Artifactory remote",
    registryWith(onPremTest, (e) => delete e.registry.chartRepositories["https://charts.jetstack.io"]),
    /^onprem-test: registry\.chartRepositories = \{.*: has no Artifactory remote for https:\/\/charts\.jetstack\.io, where the platform's charts come from; fix: /,
  ],
  [
    "two environments on one cluster",
    registryWith(onPremProd, (e) => (e.cluster.kubeconfigContext = "rancher-mlops-test")),
    'onprem-prod: cluster.kubeconfigContext = "rancher-mlops-test": is onprem-test\'s cluster too',
  ],
  [
    "two environments pushing to one Artifactory repository",
    registryWith(onPremProd, (e) => (e.registry.servingRepository = "ml-docker-test-local/mlops-serving")),
    'onprem-prod: registry.servingRepository = "ml-docker-test-local/mlops-serving": is onprem-test\'s registry.servingRepository too',
  ],
  [
    "two environments sharing a bucket on one object store",
    registryWith(onPremProd, (e) => (e.objectStore.artifactsBucket = "mlops-test-artifacts")),
    'onprem-prod: objectStore.artifactsBucket = "mlops-test-artifacts": already used as onprem-test\'s objectStore.artifactsBucket',
  ],
];

describe("bad on-prem input", () => {
  it.each(CASES)("stops the synthesis on %s with one line", async (_what, registry, expected) => {
    await expectOneProblem(registry, expected);
  });
});
