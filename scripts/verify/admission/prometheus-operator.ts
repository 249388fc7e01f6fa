/**
 * prometheus-operator v0.93's admission webhook for PrometheusRule (kube-prometheus-stack 88.5.3:
 * failurePolicy IgnoreOnInstallOnly, so Fail from the first upgrade on): pkg/admission/admission.go
 * validatePrometheusRules -> pkg/operator/rules.go ValidateRule -> Prometheus' rulefmt.Parse.
 * Modelled: group names unique and set, every rule exactly one of record/alert with an expr,
 * the `for`/`keep_firing_for`
 * fields and annotations only on alerts. Not modelled: PromQL parsing and name validation (the promtool tests parse every
 * platform rule).
 */
import type { Decoded } from "../convert";
import type { AdmissionCheck, Refusal } from "./types";

export const prometheusRuleAdmission: AdmissionCheck = {
  group: "monitoring.coreos.com",
  resource: "prometheusrules",
  kind: "PrometheusRule",
  component: "prometheus-operator v0.93.1",
  check(object) {
    const groups = ((object.spec as Decoded)?.groups ?? []) as {
      name?: string;
      rules?: Record<string, Decoded>[];
    }[];
    const out: Refusal[] = [];
    const names = new Set<string>();
    groups.forEach((group, g) => {
      const at = `spec.groups[${g}]`;
      if (!group.name)
        out.push({ field: `${at}.name`, message: "groupname must not be empty", fix: "name the group" });
      else if (names.has(group.name))
        out.push({
          field: `${at}.name`,
          message: `"${group.name}": repeated in the same file`,
          fix: "give every group its own name",
        });
      if (group.name) names.add(group.name);
      (group.rules ?? []).forEach((rule, r) => {
        const where = `${at}.rules[${r}]`;
        if (rule.record && rule.alert)
          out.push({
            field: where,
            message: "only one of 'record' and 'alert' must be set",
            fix: "split it into two rules",
          });
        if (!rule.record && !rule.alert)
          out.push({ field: where, message: "one of 'record' or 'alert' must be set", fix: "name the rule" });
        if (!String(rule.expr ?? "").trim())
          out.push({
            field: `${where}.expr`,
            message: "field 'expr' must be set in rule",
            fix: "give the rule its expression",
          });
        if (rule.record)
          for (const key of ["annotations", "for", "keep_firing_for"])
            if (rule[key] !== undefined && !(key === "annotations" && Object.keys(rule[key]).length === 0))
              out.push({
                field: `${where}.${key}`,
                message: `invalid field '${key}' in recording rule`,
                fix: `remove ${key}`,
              });
      });
    });
    return out;
  },
};
