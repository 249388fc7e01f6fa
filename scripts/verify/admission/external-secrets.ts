/**
 * External Secrets v2.9.0's validating webhook for ExternalSecret (chart external-secrets 2.9.0,
 * failurePolicy Fail): apis/externalsecrets/v1/externalsecret_validator.go, validateExternalSecret
 * (validatePolicies, data or dataFrom, validateExtractFindGenerator,
 * validateFindExtractSourceRef, validateSourceRef, validatePrivilegedTemplate,
 * validateDuplicateKeys).
 */
import type { Decoded } from "../convert";
import type { AdmissionCheck, Refusal } from "./types";

export const externalSecretAdmission: AdmissionCheck = {
  group: "external-secrets.io",
  resource: "externalsecrets",
  kind: "ExternalSecret",
  component: "External Secrets v2.9.0",
  check(object) {
    const spec = (object.spec ?? {}) as Record<string, Decoded>;
    const target = (spec.target ?? {}) as {
      creationPolicy?: string;
      deletionPolicy?: string;
      template?: { type?: string };
    };
    const creation = target.creationPolicy ?? "Owner";
    const deletion = target.deletionPolicy ?? "Retain";
    const out: Refusal[] = [];
    if (deletion === "Delete" && ["Merge", "None", "CreateOrMerge"].includes(creation))
      out.push({
        field: "spec.target.deletionPolicy",
        message: `Delete must not be used when the controller doesn't own the secret (creationPolicy ${creation})`,
        fix: "set creationPolicy: Owner or deletionPolicy: Retain",
      });
    if (deletion === "Merge" && creation === "None")
      out.push({
        field: "spec.target.deletionPolicy",
        message: "Merge must not be used with creationPolicy None",
        fix: "use Retain",
      });
    const data = (spec.data ?? []) as { secretKey?: string }[];
    const dataFrom = (spec.dataFrom ?? []) as Record<string, Decoded>[];
    if (data.length === 0 && dataFrom.length === 0)
      out.push({
        field: "spec.data",
        message: "either data or dataFrom should be specified",
        fix: "list the keys to fetch",
      });
    dataFrom.forEach((ref, i) => {
      const generator = Boolean(ref.sourceRef?.generatorRef);
      const set =
        [ref.extract, ref.find].filter((x) => x !== undefined && x !== null).length + Number(generator);
      if (set > 1)
        out.push({
          field: `spec.dataFrom[${i}]`,
          message: "extract, find, or generatorRef cannot be set at the same time",
          fix: "keep one",
        });
      if (!ref.find && !ref.extract && !ref.sourceRef)
        out.push({
          field: `spec.dataFrom[${i}]`,
          message: "either extract, find, or sourceRef must be set",
          fix: "set one",
        });
      if (ref.sourceRef && !ref.sourceRef.generatorRef && !ref.sourceRef.storeRef)
        out.push({
          field: `spec.dataFrom[${i}].sourceRef`,
          message: "generatorRef or storeRef must be set",
          fix: "set one",
        });
    });
    if (target.template?.type === "bootstrap.kubernetes.io/token")
      out.push({
        field: "spec.target.template.type",
        message: "bootstrap tokens are not allowed",
        fix: "use another Secret type",
      });
    const seen = new Set<string>();
    for (const d of data) {
      if (!d.secretKey) continue;
      if (seen.has(d.secretKey))
        out.push({
          field: "spec.data",
          message: `duplicate secretKey found: ${d.secretKey}`,
          fix: "give every entry its own secretKey",
        });
      seen.add(d.secretKey);
    }
    return out;
  },
};
