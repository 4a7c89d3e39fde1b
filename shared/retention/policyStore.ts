import { readPolicyDocument, writePolicyDocument, type Repository } from '../repo';
import { changePolicy, EMPTY_POLICY, validatePolicy, type PolicyChange, type RetentionPolicy } from './retentionPolicy';

/** The repository's policy; the empty policy (keep everything) when none was ever set. */
export async function getRetentionPolicy(repo: Repository): Promise<RetentionPolicy> {
  const stored = await readPolicyDocument(repo);
  return stored ? validatePolicy(stored.document) : EMPTY_POLICY;
}

/**
 * Applies one change (a scope's rules or legal hold) and stores the result. The change is validated
 * before anything is written, so bad input leaves the stored policy as it was.
 */
export async function setRetentionPolicy(repo: Repository, change: PolicyChange): Promise<RetentionPolicy> {
  const stored = await readPolicyDocument(repo);
  const next = changePolicy(stored ? validatePolicy(stored.document) : EMPTY_POLICY, change);
  await writePolicyDocument(repo, next, stored?.etag);
  return next;
}

/** Replaces the whole policy (HTTP PUT, a policy file). Validated first. */
export async function replaceRetentionPolicy(repo: Repository, document: unknown): Promise<RetentionPolicy> {
  const next = validatePolicy(document);
  const stored = await readPolicyDocument(repo);
  await writePolicyDocument(repo, next, stored?.etag);
  return next;
}
