// A project with something on every console page, made through the public APIs on the virtual clock: a Cloud Deploy
// pipeline (dev → staging → canary prod that needs approval) with releases rendered from a real source (v2 changes
// the image and a deploy parameter), a failed-and-retried verify and a
// rollout waiting for approval; Cloud Run jobs with finished, failed and running executions; a Cloud Run service with
// two revisions split 25/75 and tagged; an App Hosting backend
// with builds (one failed), rollouts and its traffic; a secret with versions; log entries; and outcome rules. Used by the console's browser tests and
// by `npm run screenshots`.
import { pathToFileURL } from 'node:url';
import { appFiles, makeRepo } from './apphosting.js';
import { tempDir, writeTree } from './server.js';

export const DEMO_PROJECT = 'demo-shop';
export const DEMO_LOC = `projects/${DEMO_PROJECT}/locations/us-central1`;

type Call = (method: string, path: string, body?: unknown) => Promise<Record<string, any>>;

export function caller(url: string): Call {
  return async (method, path, body) => {
    const r = await fetch(url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: body === undefined ? {} : { 'content-type': 'application/json' } });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? (JSON.parse(text) as Record<string, any>) : {};
  };
}

/** Seeds the demo project on a Gantry started with `clock: 'virtual'`. */
export async function seedDemo(url: string): Promise<void> {
  const c = caller(url);
  const L = DEMO_LOC;
  const advance = (duration: string) => c('POST', '/gantry/v1/clock:advance', { duration });
  // Cloud Deploy.
  for (const [id, requireApproval] of [['dev', false], ['staging', false], ['prod', true]] as const) {
    await c('POST', `/v1/${L}/targets?targetId=${id}`, { run: { location: L }, requireApproval, description: `${id} service` });
  }
  await c('POST', `/v1/${L}/deliveryPipelines?deliveryPipelineId=web-app`, {
    description: 'Storefront web app',
    serialPipeline: {
      stages: [
        { targetId: 'dev', strategy: { standard: { verify: true } } },
        { targetId: 'staging', strategy: { standard: { predeploy: { actions: ['migrate'] }, verify: true } } },
        { targetId: 'prod', strategy: { canary: { runtimeConfig: { cloudRun: { automaticTrafficControl: true } }, canaryDeployment: { percentages: [25, 50], verify: true } } } },
      ],
    },
  });
  const P = `/v1/${L}/deliveryPipelines/web-app`;
  await c('POST', '/gantry/v1/outcomes', { scope: `${L}/deliveryPipelines/web-app/releases/v2`, rules: 'stable/verify=fail:EXECUTION_FAILED"smoke test: 3 of 40 checks failed"@1' });
  // A real source (rendered by Gantry's Skaffold), so each release's manifests carry its own image and settings.
  const source = pathToFileURL(writeTree(tempDir('demo-source-'), {
    'skaffold.yaml': 'apiVersion: skaffold/v4beta7\nkind: Config\nmanifests:\n  rawYaml: [service.yaml]\ndeploy:\n  cloudrun: {}\nverify:\n- name: smoke\n  container:\n    name: smoke\n    image: us-docker.pkg.dev/demo/smoke:1\ncustomActions:\n- name: migrate\n  containers:\n  - name: migrate\n    image: us-docker.pkg.dev/demo/migrate:1.4\n',
    'service.yaml': 'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: web-app\nspec:\n  template:\n    spec:\n      containers:\n      - image: web-app\n        env:\n        - name: CHECKOUT\n          value: classic # from-param: ${checkout}\n',
  })).href;
  for (const r of ['v1', 'v2']) {
    await c('POST', `${P}/releases?releaseId=${r}`, {
      description: `Release ${r}`, skaffoldConfigUri: source,
      buildArtifacts: [{ image: 'web-app', tag: `us-docker.pkg.dev/demo/web-app:${r === 'v1' ? '1.0.0' : '1.1.0'}` }],
      // v2 turns the new checkout on (a deploy parameter each rendered manifest carries).
      deployParameters: r === 'v2' ? { checkout: 'express' } : {},
    });
    await c('POST', `${P}/releases/${r}/rollouts?rolloutId=${r}-to-dev-0001`, { targetId: 'dev' });
    await advance('10m');
  }
  await c('POST', `${P}/releases/v1/rollouts?rolloutId=v1-to-staging-0001`, { targetId: 'staging' });
  await advance('10m');
  await c('POST', `${P}/releases/v1/rollouts?rolloutId=v1-to-prod-0001`, { targetId: 'prod' });
  await advance('1m');
  // v2 failed its verify on dev (scripted); retried, it passes.
  await c('POST', `${P}/releases/v2/rollouts/v2-to-dev-0001:retryJob`, { phaseId: 'stable', jobId: 'verify' });
  await advance('5m');
  await c('POST', `${P}/releases/v2/rollouts?rolloutId=v2-to-staging-0001`, { targetId: 'staging' });
  await advance('2m');

  // Cloud Run jobs.
  await c('POST', `/v2/${L}/jobs?jobId=nightly-report`, { template: { taskCount: 4, parallelism: 2, template: { containers: [{ image: 'us-docker.pkg.dev/demo/report:latest', args: ['--all'] }], maxRetries: 1 } } });
  await c('POST', `/v2/${L}/jobs?jobId=db-migrate`, { template: { taskCount: 1, template: { containers: [{ image: 'us-docker.pkg.dev/demo/migrate:1.4' }], maxRetries: 0 } } });
  await advance('1s');
  await c('POST', '/gantry/v1/outcomes', { scope: `${L}/jobs/db-migrate`, rules: '0=fail:1"relation \\"orders\\" already exists"' });
  await c('POST', `/v2/${L}/jobs/nightly-report:run`, {});
  await c('POST', `/v2/${L}/jobs/db-migrate:run`, {});
  await advance('10m');
  await c('POST', `/v2/${L}/jobs/nightly-report:run`, {});
  await advance('1s');

  // Cloud Run services: an API with two revisions split 25/75, the first also reachable by its tag.
  const svc = `/v2/${L}/services`;
  const done = async (op: Record<string, any>) => { for (let i = 0; i < 100 && !op.done; i++) op = await c('GET', `/v2/${op.name}`); };
  await done(await c('POST', `${svc}?serviceId=orders-api`, { template: { containers: [{ image: 'us-docker.pkg.dev/demo/orders-api:1.0.0' }] } }));
  await advance('1m');
  await done(await c('PATCH', `${svc}/orders-api`, { template: { containers: [{ image: 'us-docker.pkg.dev/demo/orders-api:1.1.0', env: [{ name: 'FAST_CHECKOUT', value: 'on' }] }] } }));
  const revs = ((await c('GET', `${svc}/orders-api/revisions`)).revisions as { name: string; createTime: string }[])
    .sort((a, b) => a.createTime.localeCompare(b.createTime)).map(r => r.name.split('/').pop());
  await done(await c('PATCH', `${svc}/orders-api?updateMask=traffic`, { traffic: [
    { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: revs[0], percent: 75, tag: 'stable' },
    { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: revs[1], percent: 25, tag: 'canary' },
  ] }));

  // Secret Manager: a secret with a disabled first version; Cloud Logging: an app's own entries.
  const S = `/v1/projects/${DEMO_PROJECT}/secrets`;
  await c('POST', `${S}?secretId=stripe-key`, { replication: { automatic: {} }, labels: { team: 'payments' } });
  for (const v of ['sk_test_first', 'sk_test_second']) await c('POST', `${S}/stripe-key:addVersion`, { payload: { data: Buffer.from(v).toString('base64') } });
  await c('POST', `${S}/stripe-key/versions/1:disable`, {});
  await c('POST', '/v2/entries:write', { entries: [
    { logName: `projects/${DEMO_PROJECT}/logs/checkout`, resource: { type: 'global' }, severity: 'INFO', textPayload: 'order 1001 paid' },
    { logName: `projects/${DEMO_PROJECT}/logs/checkout`, resource: { type: 'global' }, severity: 'ERROR', jsonPayload: { message: 'payment declined for order 1002', order: 1002 } },
  ] });

  // App Hosting.
  const repo = makeRepo(appFiles('storefront'), 'First version');
  await c('POST', `/v1/${L}/connections?connectionId=github`, { gitlabConfig: {} });
  await c('POST', `/v1/${L}/connections/github/gitRepositoryLinks?gitRepositoryLinkId=storefront`, { cloneUri: repo });
  await c('POST', `/v1beta/${L}/backends?backendId=storefront`, { servingLocality: 'GLOBAL_ACCESS', serviceAccount: `runner@${DEMO_PROJECT}.iam.gserviceaccount.com`, codebase: { repository: `${L}/connections/github/gitRepositoryLinks/storefront` } });
  const B = `/v1beta/${L}/backends/storefront`;
  await c('POST', '/gantry/v1/outcomes', { scope: `${L}/backends/storefront/builds/build-2`, rules: 'build=fail"npm ERR! Missing script: \\"build\\""' });
  for (const b of ['build-1', 'build-2']) {
    await c('POST', `${B}/builds?buildId=${b}`, { source: { codebase: { branch: 'main' } } });
    await advance('5s');
  }
  await c('POST', `${B}/rollouts?rolloutId=rollout-1`, { build: `${L}/backends/storefront/builds/build-1` });
  await advance('5s');
}
