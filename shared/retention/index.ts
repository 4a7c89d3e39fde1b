export {
  validatePolicy,
  validateKeepRules,
  changePolicy,
  effectiveRules,
  keepsSomething,
  EMPTY_POLICY,
  COUNT_RULES,
  MAX_KEEP_COUNT,
  type RetentionPolicy,
  type KeepRules,
  type UserPolicy,
  type PolicyChange,
  type EffectiveRules,
} from './retentionPolicy';
export { parseDuration, subtractDuration, type Duration } from './duration';
export { selectSnapshots, isoWeek, type SnapshotTime, type KeepDecision } from './selectSnapshots';
export { getRetentionPolicy, setRetentionPolicy, replaceRetentionPolicy } from './policyStore';
export { applyRetention, type RetentionTarget, type ForgetOutcome } from './applyRetention';
export { forgetTenantPage, type ForgetTenantPage } from './forgetTenant';
export { tenantReport, type TenantReport, type ServiceTotals } from './tenantReport';
