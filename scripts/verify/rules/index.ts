import { admissionRule } from "../admission";
import { imagesRule } from "./images";
import { networkRule } from "./network";
import { ownershipRule } from "./ownership";
import { podSecurityRule } from "./pod-security";
import { quotaRule } from "./quotas";
import { referencesRule } from "./references";
import { remoteBasesRule } from "./remote-bases";
import { routingRule } from "./routing";
import type { Rule } from "./rule";
import { schemaRule } from "./schema";

/** Every rule verify runs, in report order. Add a rule by adding its module here. */
export const RULES: readonly Rule[] = [
  schemaRule,
  admissionRule(),
  ownershipRule,
  podSecurityRule,
  quotaRule,
  referencesRule(),
  networkRule(),
  routingRule,
  imagesRule,
  remoteBasesRule,
];
