// Developer Connect v1 (subset): connections (any provider's config, recorded as given) and their git repository
// links, whose `cloneUri` is a git URL the git policy allows: a local repository (a path or file:// URL) under the
// operator's --git-dirs, a network URL the operator mapped to a local repository (--git-mirror), or a network
// remote when the operator allows them (--allow-git-remotes). App Hosting
// backends name a link as their codebase; Gantry clones from the link's URL. Operations and locations share the
// `/v1/projects/*/locations/*` routes every v1 API on this port answers.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { App } from '../../server/app.js';
import { queryInt, queryString, type MethodSpec } from '../../server/api.js';
import type { ApiContext, BaseContext } from '../../google/context.js';
import { ApiError, errors } from '../../google/errors.js';
import { locationScoped, type Locations } from '../../google/locations.js';
import { ApiSchema } from '../../google/schema.js';
import { notFound, StandardMethods, type KindStrategy, type Resource } from '../../google/standard-methods.js';
import { checkCloneUri, GitError, type GitRepos } from '../../sources/git.js';
import { GitRefused, repositoryKey, type GitPolicy } from '../../policy/git.js';

export const SERVICE = 'developerconnect.googleapis.com';
const PROTO_PACKAGE = 'google.cloud.developerconnect.v1';
export const schema = new ApiSchema(fileURLToPath(new URL('../../../../schemas/developerconnect-v1.json', import.meta.url)), PROTO_PACKAGE);
export const LINK_KIND = 'devconnect.gitRepositoryLink';
const CONNECTION_KIND = 'devconnect.connection';
const PROVIDERS = ['githubConfig', 'githubEnterpriseConfig', 'gitlabConfig', 'gitlabEnterpriseConfig', 'bitbucketCloudConfig', 'bitbucketDataCenterConfig'];

/** What other APIs read of Developer Connect: a link's clone URL. */
export interface RepositoryLinks {
  /** The cloneUri of a link, or undefined when there is no such link. */
  cloneUri(link: string): string | undefined;
}

const connections: KindStrategy = {
  kind: CONNECTION_KIND, message: 'Connection', collection: 'connections', idParam: 'connectionId', bodyField: 'connection',
  validate(r) {
    const set = PROVIDERS.filter(p => r[p] !== undefined);
    if (set.length > 1) throw errors.invalidArgument(`connection sets ${set.join(' and ')}: a connection has one provider`, 'connection');
  },
  prepare(r) {
    r.installationState = { stage: 'COMPLETE' };
    r.reconciling = false;
  },
};

function links(policy: GitPolicy): KindStrategy {
  return {
    kind: LINK_KIND, message: 'GitRepositoryLink', collection: 'gitRepositoryLinks', idParam: 'gitRepositoryLinkId', bodyField: 'gitRepositoryLink',
    parentKind: CONNECTION_KIND,
    validate(r, ctx) {
      const uri = String(r.cloneUri ?? '');
      if (!uri) throw errors.invalidArgument('git_repository_link.clone_uri is required', 'git_repository_link.clone_uri');
      const bad = checkCloneUri(uri);
      if (bad) throw errors.invalidArgument(`git_repository_link.clone_uri "${uri.slice(0, 200)}" ${bad}`, 'git_repository_link.clone_uri');
      // Checked as written now (the repository need not exist yet), in full whenever git reads it.
      try { policy.locate(uri, false); } catch (e) {
        if (e instanceof GitRefused) throw errors.invalidArgument(`git_repository_link.clone_uri "${uri.slice(0, 200)}" ${e.message}`, 'git_repository_link.clone_uri');
        throw e;
      }
      if (ctx.existing && ctx.existing.cloneUri !== r.cloneUri) throw errors.invalidArgument('git_repository_link.clone_uri is immutable', 'git_repository_link.clone_uri');
    },
    prepare(r) { r.reconciling = false; },
  };
}

export function registerDeveloperConnect(app: App, base: BaseContext, opts: { git: GitRepos; locations: Locations }): RepositoryLinks {
  const ctx: ApiContext = { store: base.store, clock: base.clock, ops: base.ops, schema, locations: opts.locations, svc: { protoPackage: PROTO_PACKAGE, apiVersion: 'v1', serviceName: SERVICE } };
  const std = new StandardMethods(ctx);
  const link = links(opts.git.policy);
  const r = (m: string, t: string, spec: MethodSpec) => app.route(m, t, locationScoped(ctx, spec));
  const P = 'projects/*/locations/*';
  const C = `${P}/connections/*`;
  const L = `${C}/gitRepositoryLinks/*`;
  const connectionsGuarded: KindStrategy = {
    ...connections,
    beforeDelete(name) {
      if (base.store.countUnder(name) > 0) throw errors.failedPrecondition(`Connection ${name} has git repository links: delete them first.`, name);
    },
  };
  r('GET', `/v1/{parent=${P}}/connections`, std.list(connectionsGuarded));
  r('POST', `/v1/{parent=${P}}/connections`, std.create(connectionsGuarded));
  r('GET', `/v1/{name=${C}}`, std.get(connectionsGuarded));
  r('PATCH', `/v1/{connection.name=${C}}`, std.update(connectionsGuarded));
  r('DELETE', `/v1/{name=${C}}`, std.delete(connectionsGuarded));
  r('GET', `/v1/{parent=${C}}/gitRepositoryLinks`, std.list(link));
  r('POST', `/v1/{parent=${C}}/gitRepositoryLinks`, std.create(link));
  r('GET', `/v1/{name=${L}}`, std.get(link));
  r('DELETE', `/v1/{name=${L}}`, std.delete(link));

  const findLink = (name: string): Resource => {
    const row = base.store.get(name);
    if (!row || row.kind !== LINK_KIND) throw notFound(ctx, 'GitRepositoryLink', name);
    return JSON.parse(row.data) as Resource;
  };
  // A token for git over HTTPS: Gantry's clones use local repositories, or the operator's own credentials for remotes
  // they allowed, so this one opens nothing.
  const token: MethodSpec = {
    handler: req => {
      findLink(req.params.gitRepositoryLink);
      schema.decode('Empty', req.body ?? {});
      return { body: { token: 'gantry-local-token', expirationTime: new Date(base.clock.now() + 3600_000).toISOString(), gitUsername: 'oauth2' } };
    },
  };
  r('POST', `/v1/{gitRepositoryLink=${L}}:fetchReadToken`, token);
  r('POST', `/v1/{gitRepositoryLink=${L}}:fetchReadWriteToken`, token);
  r('GET', `/v1/{gitRepositoryLink=${L}}:fetchGitRefs`, {
    query: ['refType', 'pageSize', 'pageToken'],
    handler: async req => {
      const l = findLink(req.params.gitRepositoryLink);
      const refType = queryString(req, 'refType');
      if (refType !== 'BRANCH' && refType !== 'TAG') throw errors.invalidArgument(`ref_type must be BRANCH or TAG, got "${String(refType).slice(0, 50)}"`, 'ref_type');
      const size = Math.min(queryInt(req, 'pageSize') || 1000, 1000);
      const start = Number(queryString(req, 'pageToken') || 0);
      if (!Number.isInteger(start) || start < 0) throw errors.invalidArgument('Invalid page token.', 'page_token');
      let refs: string[] = [];
      if (refType === 'BRANCH') {
        try { refs = await opts.git.branches(String(l.cloneUri)); } catch (e) {
          if (e instanceof GitError) throw errors.failedPrecondition(`The repository of ${String(l.name)} could not be read: ${e.message}`, String(l.name));
          throw e;
        }
      }
      const page = refs.slice(start, start + size);
      return { body: { ...(page.length ? { refNames: page } : {}), ...(start + size < refs.length ? { nextPageToken: String(start + size) } : {}) } };
    },
  });
  // The repositories a connection could link: on Google, those its GitHub installation reaches; here, the URLs the
  // operator mapped to local repositories (--git-mirror), which links read offline.
  r('GET', `/v1/{connection=${C}}:fetchLinkableGitRepositories`, {
    query: ['pageSize', 'pageToken'],
    handler: req => {
      const row = base.store.get(req.params.connection);
      if (!row || row.kind !== CONNECTION_KIND) throw notFound(ctx, 'Connection', req.params.connection);
      const size = Math.min(queryInt(req, 'pageSize') || 1000, 1000);
      const start = Number(queryString(req, 'pageToken') || 0);
      if (!Number.isInteger(start) || start < 0) throw errors.invalidArgument('Invalid page token.', 'page_token');
      const urls = opts.git.policy.mirrorUrls;
      const page = urls.slice(start, start + size).map(cloneUri => ({ cloneUri }));
      return { body: { ...(page.length ? { linkableGitRepositories: page } : {}), ...(start + size < urls.length ? { nextPageToken: String(start + size) } : {}) } };
    },
  });
  // The GitHub App installations a connection could use: on Google, those the authorizing user reaches; here, one
  // organization per owner of a mapped github.com repository (the id a stable number derived from the name).
  r('GET', `/v1/{connection=${C}}:fetchGitHubInstallations`, {
    handler: req => {
      const row = base.store.get(req.params.connection);
      if (!row || row.kind !== CONNECTION_KIND) throw notFound(ctx, 'Connection', req.params.connection);
      const owners = [...new Set(opts.git.policy.mirrorUrls.map(u => /^github\.com\/([^/]+)\//.exec(repositoryKey(u) ?? '')?.[1]).filter((o): o is string => !!o))];
      const installations = owners.map(name => ({ id: String(parseInt(createHash('sha256').update(name).digest('hex').slice(0, 12), 16)), name, type: 'organization' }));
      return { body: installations.length ? { installations } : {} };
    },
  });
  registerGitHubSubset(app, base, opts.git);
  return { cloneUri: name => base.store.get(name)?.kind === LINK_KIND ? String(findLink(name).cloneUri) : undefined };
}

/**
 * The two GitHub REST calls firebase-tools makes to turn a branch or commit of a linked repository into a commit
 * (`GET /repos/{owner}/{repo}/branches/{branch}`, `/commits/{sha}`), answered from the git repository a Developer
 * Connect link with that GitHub clone URL reaches (the local repository --git-mirror maps it to; or, with
 * --allow-git-remotes, through the operator's git configuration), so `GITHUB_API_URL` can point at Gantry.
 */
function registerGitHubSubset(app: App, base: BaseContext, git: GitRepos): void {
  const urlFor = (owner: string, repo: string): string => {
    const want = `github.com/${owner}/${repo}`.toLowerCase();
    const links = base.store.list({ kind: LINK_KIND, scope: { parentPrefix: 'projects/' }, order: [], limit: 1000, predicate: l => String(l.cloneUri).toLowerCase().replace(/\.git$/, '').endsWith(want) });
    const link = links.rows[0];
    if (link) return String(link.cloneUri);
    // A repository the operator mapped (--git-mirror) answers before any link names it, as GitHub would.
    const mapped = `https://github.com/${owner}/${repo}.git`;
    if (git.policy.mirrored(mapped)) return mapped;
    throw githubError(404, 'Not Found');
  };
  const commitJson = (owner: string, repo: string, c: { hash: string; message: string; author: { name: string; email: string }; commitTime: string }) => ({
    sha: c.hash, url: `https://api.github.com/repos/${owner}/${repo}/commits/${c.hash}`, html_url: `https://github.com/${owner}/${repo}/commit/${c.hash}`,
    commit: { message: c.message, author: { name: c.author.name, email: c.author.email, date: c.commitTime }, committer: { name: c.author.name, email: c.author.email, date: c.commitTime } },
  });
  const resolve = async (owner: string, repo: string, ref: { branch?: string; commit?: string }) => {
    try { return await git.resolve(urlFor(owner, repo), ref); } catch (e) {
      if (e instanceof GitError) throw githubError(404, 'Not Found');
      throw e;
    }
  };
  app.route('GET', '/repos/{owner}/{repo}/branches/{branch=**}', {
    handler: async req => {
      const { owner, repo, branch } = req.params;
      const c = await resolve(owner, repo, { branch });
      if (!c) throw githubError(404, 'Branch not found');
      return { body: { name: branch, commit: commitJson(owner, repo, c), protected: false } };
    },
  });
  app.route('GET', '/repos/{owner}/{repo}/commits/{sha}', {
    handler: async req => {
      const { owner, repo, sha } = req.params;
      if (!/^[0-9a-f]{4,40}$/.test(sha)) throw githubError(422, `No commit found for SHA: ${sha.slice(0, 50)}`);
      const c = await resolve(owner, repo, { commit: sha });
      if (!c) throw githubError(422, `No commit found for SHA: ${sha}`);
      return { body: commitJson(owner, repo, c) };
    },
  });
}

/** GitHub answers errors as `{message}` with the HTTP status. */
function githubError(status: 404 | 422, message: string): ApiError {
  return new ApiError(status === 404 ? 'NOT_FOUND' : 'INVALID_ARGUMENT', message, [], status);
}
