/**
 * The GitHub repository whose workflows deploy and diff the AWS environments, and the names of
 * the roles they assume. One place: the bootstrap stacks trust exactly this repository, and each
 * foundation derives the diff role's ARN from the name below.
 */

/** `<owner>/<repository>` as GitHub spells it; the OIDC token's `sub` starts with `repo:<this>:`. */
export const GITHUB_REPOSITORY = "acme/mlops-platform";

/** IAM role the deploy jobs assume (one per account; trusted by that account's GitHub environments). */
export const DEPLOY_ROLE_NAME = "ci-deploy";

/** IAM role the pull-request diff job assumes (read-only; one per account). */
export const DIFF_ROLE_NAME = "ci-diff";

/** GitHub's OIDC issuer host, the prefix of the `:sub` and `:aud` condition keys. */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

/** The audience GitHub's `aws-actions/configure-aws-credentials` asks for. */
export const GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com";

const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;

/** Checks a repository name; a wildcard would let any repository's workflow assume the roles. */
export function repositoryProblem(repository: string): string | undefined {
  if (REPOSITORY.test(repository) && !repository.endsWith("/.") && !repository.endsWith("/.."))
    return undefined;
  return `environments/github.ts: GITHUB_REPOSITORY "${repository}" is not <owner>/<repository> (letters, digits, - for the owner; letters, digits, . _ - for the repository; no wildcards); fix: set it to this repository as GitHub spells it, e.g. acme/mlops-platform`;
}

/** The `sub` claim of a job running in GitHub environment `environment` of the repository. */
export function environmentSubject(environment: string, repository = GITHUB_REPOSITORY): string {
  return `repo:${repository}:environment:${environment}`;
}

/** The `sub` claim of a job triggered by a pull request of the repository. */
export function pullRequestSubject(repository = GITHUB_REPOSITORY): string {
  return `repo:${repository}:pull_request`;
}
