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
  const clone =
    /^(?:https?:\/\/(?:[^@/]+@)?github\.com\/|(?:ssh:\/\/)?git@github\.com[:/])([^/]+\/[^/]+?)(?:\.git)?\/?$/.exec(
      repository,
    );
  if (clone)
    return `environments/github.ts: GITHUB_REPOSITORY "${repository}" is a clone URL; the OIDC token's sub claim carries <owner>/<repository> alone, so no role would trust the workflows; fix: set it to "${clone[1]}"`;
  if (repository.endsWith(".git"))
    return `environments/github.ts: GITHUB_REPOSITORY "${repository}" ends with .git, which is part of a clone URL, not of the repository's name in the OIDC token's sub claim; fix: set it to "${repository.slice(0, -4)}"`;
  if (REPOSITORY.test(repository) && !repository.endsWith("/.") && !repository.endsWith("/.."))
    return undefined;
  return `environments/github.ts: GITHUB_REPOSITORY "${repository}" is not <owner>/<repository> (letters, digits, - for the owner; letters, digits, . _ - for the repository; no wildcards); fix: set it to this repository as GitHub spells it, e.g. acme/mlops-platform`;
}

/**
 * The repository's OIDC subject template (GitHub REST API, `PUT
 * /repos/{owner}/{repo}/actions/oidc/customization/sub` with `use_default: false`): the `sub`
 * claim becomes `<key>:<value>` of each key in this order, `context` being what the default
 * subject carries after the repository (`environment:<name>`, `pull_request`, or
 * `ref:<ref>`). With `ref` in it, a job naming a GitHub environment from a branch other than
 * `main` gets a subject no deploy role trusts. `npm run doctor` checks the repository's template
 * where the GitHub CLI is logged in; until it is set, every token has the default subject and
 * no role trusts it (the pipeline fails closed).
 */
export const OIDC_SUBJECT_CLAIM_KEYS = ["repo", "context", "ref"] as const;

/** The only branch whose jobs may deploy. */
export const DEPLOY_BRANCH = "main";

/** The `sub` claim of a job on `main` running in GitHub environment `environment` of the repository. */
export function environmentSubject(environment: string, repository = GITHUB_REPOSITORY): string {
  return `repo:${repository}:environment:${environment}:ref:refs/heads/${DEPLOY_BRANCH}`;
}

/**
 * The `sub` claims of jobs triggered by the repository's pull requests (their ref is
 * `refs/pull/<number>/merge`), as a StringLike pattern: the number is the only wildcard.
 */
export function pullRequestSubject(repository = GITHUB_REPOSITORY): string {
  return `repo:${repository}:pull_request:ref:refs/pull/*/merge`;
}
