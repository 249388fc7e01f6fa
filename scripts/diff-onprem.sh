#!/usr/bin/env bash
# Diffs an on-prem environment's stacks for Jenkins: `scripts/diff-onprem.sh <env>`, with
# KUBE_CONFIG_PATH set. The platform stack is always planned. The serving stack's
# InferenceServices are `kubernetes_manifest` resources, which need the KServe CRD at plan:
# before the platform's first apply there is none, so serving is left to the deploy, which
# applies the platform first, and the build says so. Any other failure to read the CRD fails.
set -euo pipefail
env="${1:?usage: scripts/diff-onprem.sh <environment>}"
crd="inferenceservices.serving.kserve.io"

npx cdktf diff "${env}-platform"
if out="$(kubectl --kubeconfig "${KUBE_CONFIG_PATH}" get crd "${crd}" -o name 2>&1)"; then
  npx cdktf diff "${env}-serving"
elif grep -q "NotFound" <<<"${out}"; then
  echo "${env}-serving is not planned: the cluster has no ${crd} yet (the platform stack installs it); the deploy applies ${env}-platform, then plans and applies ${env}-serving"
else
  echo "${out}" >&2
  echo "could not read the CustomResourceDefinition ${crd} with the kubeconfig in KUBE_CONFIG_PATH: it must allow get on customresourcedefinitions" >&2
  exit 1
fi
