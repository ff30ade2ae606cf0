// Cloud Deploy: pipelines with their stages and the release each target runs; a pipeline's releases; a release's
// rollouts, its rendered manifests and render logs per target and what changed since the release before on each; a rollout's phases and jobs as a timeline, each job run's state, times and log, and the rollout verbs
// (approve, reject, advance, retry, ignore, cancel, terminate) called as the clients call them.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { get, getText, list, post, type Json } from './api.js';
import { changed, lineDiff, type DiffLine } from './diff.js';
import { useLive } from './live.js';
import { Action, Duration, ErrorNote, Fields, mediaUrl, formatDuration, id, link, Loading, LogView, Page, Section, State, Table, Time, viewerUrl } from './ui.js';

const V1 = '/v1/';

function strategyOf(stage: Json): string {
  const s = stage.strategy ?? {};
  if (s.canary) {
    const pct = (s.canary.canaryDeployment?.percentages ?? []) as number[];
    return pct.length ? `canary ${pct.map(p => `${p}%`).join(' → ')} → 100%` : 'canary (custom phases)';
  }
  return 'standard';
}

const byTimeDesc = (field: string) => (a: Json, b: Json) => String(b[field] ?? '').localeCompare(String(a[field] ?? ''));

interface StageView { current?: Json; latest?: Json }

/**
 * Each stage's target: the rollout that put its current release there (gcloud's own query: the target's last
 * SUCCEEDED rollout by deployEndTime) and its latest rollout. Two indexed one-row queries a stage, however long the
 * pipeline's history.
 */
async function stageViews(pipeline: Json): Promise<StageView[]> {
  const stages = (pipeline.serialPipeline?.stages ?? []) as Json[];
  const one = async (filter: string, orderBy: string) =>
    (await get<{ rollouts?: Json[] }>(`${V1}${pipeline.name}/releases/-/rollouts?pageSize=1&filter=${encodeURIComponent(filter)}&orderBy=${encodeURIComponent(orderBy)}`)).rollouts?.[0];
  return Promise.all(stages.map(async s => {
    const target = `targetId="${String(s.targetId)}"`;
    const [current, latest] = await Promise.all([one(`${target} AND state="SUCCEEDED"`, 'deployEndTime desc'), one(target, 'createTime desc')]);
    return { current, latest };
  }));
}

/** Each stage's target, the release it runs and its latest rollout. */
function Stages({ project, pipeline, views }: { project: string; pipeline: Json; views: StageView[] }) {
  const stages = (pipeline.serialPipeline?.stages ?? []) as Json[];
  const [, , , loc, , pid] = String(pipeline.name).split('/');
  if (!stages.length) return <p class="empty">No stages.</p>;
  return (
    <ol class="stages" aria-label={`Stages of ${pid}`}>
      {stages.map((stage, i) => {
        const { current, latest } = views[i] ?? {};
        const rel = (r: Json) => String(r.name).split('/')[7];
        const roLink = (r: Json) => link('p', project, 'deploy', loc, pid, 'releases', rel(r), 'rollouts', id(r.name));
        return (
          <li class="stage">
            <div class="stage-head"><span class="step" aria-hidden="true">{i + 1}</span><strong>{stage.targetId}</strong></div>
            <div class="muted">{strategyOf(stage)}</div>
            <div>{current ? <>runs <a href={link('p', project, 'deploy', loc, pid, 'releases', rel(current))}>{rel(current)}</a></> : <span class="muted">nothing deployed</span>}</div>
            {latest && latest.name !== current?.name ? <div><a href={roLink(latest)}>{id(latest.name)}</a> <State value={latest.state} /></div> : null}
          </li>
        );
      })}
    </ol>
  );
}

function Pipelines({ project }: { project: string }) {
  const parent = `projects/${project}/locations/-`;
  const data = useLive(async () => {
    const [pipelines, targets] = await Promise.all([list(`${V1}${parent}/deliveryPipelines`, 'deliveryPipelines'), list(`${V1}${parent}/targets`, 'targets')]);
    const views = await Promise.all(pipelines.map(stageViews));
    return { pipelines, targets, views };
  }, [`projects/${project}/`], [project]);
  return (
    <Page title="Delivery pipelines" crumbs={[['Gantry', '#/'], [project, link('p', project, 'deploy')]]}>
      <Loading loaded={data}>{({ pipelines, targets, views }) => (
        <>
          {pipelines.length ? pipelines.map((p, i) => {
            const [, , , loc, , pid] = String(p.name).split('/');
            return (
              <Section title={pid} actions={<a class="button" href={link('p', project, 'deploy', loc, pid)}>Releases</a>}>
                <p class="muted">{loc}{p.description ? ` · ${p.description}` : ''}{p.suspended ? ' · suspended' : ''}</p>
                <Stages project={project} pipeline={p} views={views[i]} />
              </Section>
            );
          }) : <p class="empty">No delivery pipelines in {project}. Create one with <code>gcloud deploy apply</code>.</p>}
          <Section title="Targets">
            <Table caption="Targets" head={['Target', 'Location', 'Runtime', 'Approval', 'Description']} empty="No targets."
              rows={targets.map(t => [id(t.name), String(t.name).split('/')[3], runtimeOf(t), t.requireApproval ? 'required' : 'not required', t.description ?? ''])} />
          </Section>
        </>
      )}</Loading>
    </Page>
  );
}

function runtimeOf(t: Json): string {
  if (t.run) return `Cloud Run ${id(t.run.location)}`;
  if (t.gke) return `GKE ${t.gke.cluster ?? ''}`;
  if (t.anthosCluster) return 'GKE Enterprise';
  if (t.multiTarget) return `multi-target (${(t.multiTarget.targetIds ?? []).join(', ')})`;
  if (t.customTarget) return `custom ${id(t.customTarget.customTargetType)}`;
  return '—';
}

function Pipeline({ project, loc, pid }: { project: string; loc: string; pid: string }) {
  const name = `projects/${project}/locations/${loc}/deliveryPipelines/${pid}`;
  const data = useLive(async () => {
    // The newest releases and rollouts: a page each, however long the history.
    const [pipeline, releases, rollouts] = await Promise.all([get(`${V1}${name}`), list(`${V1}${name}/releases?orderBy=createTime desc`, 'releases', 1), list(`${V1}${name}/releases/-/rollouts?orderBy=createTime desc`, 'rollouts', 1)]);
    return { pipeline, releases, rollouts, views: await stageViews(pipeline) };
  }, [name], [name]);
  return (
    <Page title={pid} crumbs={[['Gantry', '#/'], [project, link('p', project, 'deploy')], ['Pipelines', link('p', project, 'deploy')]]}>
      <Loading loaded={data}>{({ pipeline, releases, rollouts, views }) => (
        <>
          <Section title="Stages"><Stages project={project} pipeline={pipeline} views={views} /></Section>
          <Section title="Releases">
            <Table caption="Releases" head={['Release', 'Created', 'Render', 'Rollouts', 'Description']} empty="No releases yet: gcloud deploy releases create."
              rows={releases.map(r => {
                const rid = id(r.name);
                const mine = rollouts.filter(x => String(x.name).startsWith(`${r.name}/`));
                return [<a href={link('p', project, 'deploy', loc, pid, 'releases', rid)}>{rid}</a>, <Time value={r.createTime} />, <State value={r.renderState} />,
                  mine.length ? mine.map(x => <span class="chip">{x.targetId} <State value={x.state} /></span>) : <span class="muted">none</span>, r.description ?? ''];
              })} />
          </Section>
        </>
      )}</Loading>
    </Page>
  );
}

/** A target's rendered manifest and render log (written next to it), from the release's `targetArtifacts`. */
function artifactUrls(release: Json, target: string): { manifest?: string; log?: string } {
  const a = release.targetArtifacts?.[target];
  if (!a?.artifactUri) return {};
  return { manifest: mediaUrl(String(a.artifactUri), String(a.manifestPath ?? 'manifest.yaml')), log: mediaUrl(String(a.artifactUri), 'render.log') };
}

const releaseOf = (rollout: Json) => String(rollout.name).split('/')[7];

/**
 * The release deployed on `target` before this one: the newest other release to succeed there before this one did
 * (or, if this one never has, the one it would replace), from the target's newest 50 successful rollouts.
 */
async function deployedBefore(pipeline: string, rid: string, target: string): Promise<string | undefined> {
  const q = `filter=${encodeURIComponent(`targetId="${target}" AND state="SUCCEEDED"`)}&orderBy=${encodeURIComponent('deployEndTime desc')}&pageSize=50`;
  const done = (await get<{ rollouts?: Json[] }>(`${V1}${pipeline}/releases/-/rollouts?${q}`)).rollouts ?? [];
  const mine = done.find(r => releaseOf(r) === rid);
  return done.map(r => (releaseOf(r) !== rid && (!mine || String(r.deployEndTime) < String(mine.deployEndTime)) ? releaseOf(r) : undefined)).find(Boolean);
}

/** The target's manifest against the one the release before rendered for it, loaded when opened. */
function ManifestDiff({ pipeline, release, target, before }: { pipeline: string; release: Json; target: string; before: string }) {
  const [diff, setDiff] = useState<{ open?: boolean; lines?: DiffLine[]; error?: string }>({});
  const load = async () => {
    try {
      const prev = await get(`${V1}${pipeline}/releases/${before}`);
      const [a, b] = [artifactUrls(prev, target).manifest, artifactUrls(release, target).manifest];
      if (!a || !b) throw new Error(`Release ${!a ? before : id(release.name)} has no rendered manifest for ${target}.`);
      const [old, now] = await Promise.all([getText(a), getText(b)]);
      setDiff({ open: true, lines: lineDiff(old, now) });
    } catch (e) { setDiff({ open: true, error: (e as Error).message }); }
  };
  return (
    <details class="diff" onToggle={e => {
      const open = (e.target as HTMLDetailsElement).open;
      setDiff(d => ({ ...d, open }));
      if (open && !diff.lines) void load();
    }}>
      <summary>Changes on {target} since {before}</summary>
      {!diff.open ? null : diff.error ? <ErrorNote message={diff.error} /> : !diff.lines ? <p class="loading">Loading…</p> : !changed(diff.lines) ? <p class="empty">The manifest {target} gets is the same as {before}'s.</p> : (
        <pre tabIndex={0} aria-label={`Manifest changes on ${target} since ${before}`}>{diff.lines.map(l => (l.op === '…'
          ? <span class="fold">⋯ {l.count} unchanged line{l.count === 1 ? '' : 's'}</span>
          : <span class={l.op === '+' ? 'add' : l.op === '-' ? 'del' : ''}>{l.op} {l.text}</span>))}</pre>
      )}
    </details>
  );
}

function Release({ project, loc, pid, rid }: { project: string; loc: string; pid: string; rid: string }) {
  const pipeline = `projects/${project}/locations/${loc}/deliveryPipelines/${pid}`;
  const name = `${pipeline}/releases/${rid}`;
  const data = useLive(async () => {
    const [release, rollouts] = await Promise.all([get(`${V1}${name}`), list(`${V1}${name}/rollouts`, 'rollouts')]);
    const targets = Object.keys(release.targetRenders ?? {});
    const before = Object.fromEntries(await Promise.all(targets.map(async t => [t, await deployedBefore(pipeline, rid, t)] as const)));
    return { release, rollouts, before };
  }, [name], [name]);
  return (
    <Page title={`Release ${rid}`} crumbs={[['Gantry', '#/'], [project, link('p', project, 'deploy')], [pid, link('p', project, 'deploy', loc, pid)]]}>
      <Loading loaded={data}>{({ release, rollouts, before }) => (
        <>
          <Fields items={[
            ['Render', <State value={release.renderState} />], ['Created', <Time value={release.createTime} />],
            ['Render started', <Time value={release.renderStartTime} />], ['Render ended', <Time value={release.renderEndTime} />],
            ['Skaffold', release.skaffoldVersion], ['Abandoned', release.abandoned ? 'yes' : 'no'], ['Description', release.description],
          ]} />
          <Section title="Rollouts">
            <Table caption="Rollouts" head={['Rollout', 'Target', 'State', 'Approval', 'Created', 'Deploy took']} empty="No rollouts of this release yet."
              rows={rollouts.sort(byTimeDesc('createTime')).map(r => [<a href={link('p', project, 'deploy', loc, pid, 'releases', rid, 'rollouts', id(r.name))}>{id(r.name)}</a>,
                r.targetId, <State value={r.state} />, <State value={r.approvalState} />, <Time value={r.createTime} />, <Duration from={r.deployStartTime} to={r.deployEndTime} />])} />
          </Section>
          <Section title="Target renders">
            <Table caption="Target renders" head={['Target', 'State', 'Manifest', 'Render log', 'Failure']} empty="No target rendered yet."
              rows={Object.entries((release.targetRenders ?? {}) as Record<string, Json>).map(([t, r]) => {
                const urls = artifactUrls(release, t);
                return [t, <State value={r.renderingState} />,
                  urls.manifest && r.renderingState === 'SUCCEEDED' ? <a href={urls.manifest} target="_blank" rel="noopener">manifest<span class="sr-only"> for {t}</span></a> : <span class="muted">—</span>,
                  urls.log && r.renderingState !== 'IN_PROGRESS' ? <a href={urls.log} target="_blank" rel="noopener">render log<span class="sr-only"> for {t}</span></a> : <span class="muted">—</span>,
                  r.failureMessage ?? r.failureCause ?? ''];
              })} />
            {Object.entries((release.targetRenders ?? {}) as Record<string, Json>).map(([t, r]) => (r.renderingState === 'SUCCEEDED' && before[t]
              ? <ManifestDiff key={`${t}/${before[t]}`} pipeline={pipeline} release={release} target={t} before={before[t]!} /> : null))}
          </Section>
        </>
      )}</Loading>
    </Page>
  );
}

/** Rollout states no verb but retry and ignore (after FAILED) leaves. */
const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'APPROVAL_REJECTED', 'CANCELLED', 'CANCELLING']);

const JOB_FIELDS = ['predeployJob', 'deployJob', 'verifyJob', 'postdeployJob'];
const RUN_FIELDS = ['predeployJobRun', 'deployJobRun', 'verifyJobRun', 'postdeployJobRun', 'createChildRolloutJobRun', 'advanceChildRolloutJobRun'];

/** A phase's jobs in the order they run. */
function jobsOf(phase: Json): Json[] {
  const d = phase.deploymentJobs;
  if (d) return JOB_FIELDS.map(f => d[f]).filter(Boolean);
  const c = phase.childRolloutJobs;
  return c ? [...(c.createRolloutJobs ?? []), ...(c.advanceRolloutJobs ?? [])] : [];
}

function buildOf(jr: Json): string | undefined {
  for (const f of RUN_FIELDS) if (jr[f]?.build) return String(jr[f].build).split('/').pop();
  return undefined;
}

function Timeline({ project, rollout, jobRuns }: { project: string; rollout: Json; jobRuns: Json[] }) {
  const [open, setOpen] = useState<string | undefined>();
  const phases = (rollout.phases ?? []) as Json[];
  const starts = jobRuns.map(j => Date.parse(j.startTime ?? j.createTime)).filter(Number.isFinite);
  const ends = jobRuns.map(j => Date.parse(j.endTime ?? j.startTime ?? j.createTime)).filter(Number.isFinite);
  const t0 = Math.min(...starts), t1 = Math.max(...ends, t0 + 1);
  const span = t1 - t0;
  const state = rollout.state;
  const act = (verb: string, body: Json) => post(`${V1}${rollout.name}:${verb}`, body);
  if (!phases.length) return <p class="empty">No phases yet: the rollout's phases are planned once its release has rendered.</p>;
  return (
    <ol class="timeline">
      {phases.map(phase => (
        <li class="phase">
          <div class="phase-head"><h3>Phase {phase.id}</h3> <State value={phase.state} />{phase.skipMessage ? <span class="muted"> {phase.skipMessage}</span> : null}</div>
          <ul class="jobs">
            {jobsOf(phase).map(job => {
              const runs = jobRuns.filter(j => j.phaseId === phase.id && j.jobId === job.id).sort((a, b) => String(a.createTime).localeCompare(String(b.createTime)));
              const last = runs[runs.length - 1];
              const failed = job.state === 'FAILED';
              return (
                <li class="job">
                  <div class="job-head">
                    <strong>{job.id}</strong> <State value={job.state} />
                    {runs.length > 1 ? <span class="muted"> {runs.length} attempts</span> : null}
                    {last?.startTime ? <span class="muted"> {formatDuration(Date.parse(last.endTime ?? new Date().toISOString()) - Date.parse(last.startTime))}</span> : null}
                    <span class="job-actions">
                      {failed && state === 'FAILED' ? <Action label="Retry" run={() => act('retryJob', { phaseId: phase.id, jobId: job.id })} /> : null}
                      {failed && state === 'FAILED' ? <Action label="Ignore" run={() => act('ignoreJob', { phaseId: phase.id, jobId: job.id })} /> : null}
                      {last?.state === 'IN_PROGRESS' ? <Action label="Terminate" kind="danger" confirm={`Terminate job run ${id(last.name)}?`} run={() => post(`${V1}${last.name}:terminate`, {})} /> : null}
                    </span>
                  </div>
                  {runs.length ? (
                    <div class="track" role="list" aria-label={`${phase.id} ${job.id} job runs`}>
                      {runs.map((jr, n) => {
                        const s = Date.parse(jr.startTime ?? jr.createTime), e = Date.parse(jr.endTime ?? jr.startTime ?? jr.createTime);
                        const left = span > 0 ? ((s - t0) / span) * 100 : 0, width = span > 0 ? Math.max(((e - s) / span) * 100, 0.8) : 100;
                        return <span role="listitem" class={`run ${String(jr.state).toLowerCase()}`} style={{ left: `${left}%`, width: `${width}%` }} title={`attempt ${n + 1}: ${jr.state}`}><span class="sr-only">attempt {n + 1}: {jr.state}</span></span>;
                      })}
                    </div>
                  ) : null}
                  {runs.map((jr, n) => (
                    <details open={open === jr.name} onToggle={e => { if ((e.target as HTMLDetailsElement).open) setOpen(jr.name); }}>
                      <summary>Attempt {n + 1}: <State value={jr.state} /> <Time value={jr.startTime} /> → <Time value={jr.endTime} />{failureOf(jr) ? <span class="error-text"> {failureOf(jr)}</span> : null}</summary>
                      {open === jr.name ? (buildOf(jr)
                        ? <LogView label={`Log of ${phase.id}/${job.id}, attempt ${n + 1}`} url={viewerUrl(project, `resource.type="build"\nresource.labels.build_id="${buildOf(jr)}"`)} refresh={jr.etag} />
                        : <p class="muted">This job run has no build log.</p>) : null}
                    </details>
                  ))}
                </li>
              );
            })}
          </ul>
        </li>
      ))}
    </ol>
  );
}

function failureOf(jr: Json): string {
  for (const f of RUN_FIELDS) if (jr[f]?.failureMessage || jr[f]?.failureCause) return `${jr[f].failureCause ?? ''} ${jr[f].failureMessage ?? ''}`.trim();
  return '';
}

/** The next phase an advance would start: the first pending one after one that finished. */
function nextPhase(rollout: Json): string | undefined {
  const phases = (rollout.phases ?? []) as Json[];
  const i = phases.findIndex(p => p.state === 'PENDING');
  return i > 0 && ['SUCCEEDED', 'SKIPPED'].includes(phases[i - 1].state) ? phases[i].id : undefined;
}

/** Rollout states that still wait or run on their target. */
const UNFINISHED = new Set(['PENDING_APPROVAL', 'PENDING', 'PENDING_RELEASE', 'IN_PROGRESS', 'HALTED']);

/** A target's rollouts (of any release of the pipeline) that have not finished, from its newest 50. */
async function unfinishedOn(pipeline: string, target: string): Promise<Json[]> {
  const page = await get<{ rollouts?: Json[] }>(`${V1}${pipeline}/releases/-/rollouts?pageSize=50&filter=${encodeURIComponent(`targetId="${target}"`)}&orderBy=${encodeURIComponent('createTime desc')}`);
  return (page.rollouts ?? []).filter(r => UNFINISHED.has(String(r.state)));
}

/** The Cloud Run service a rollout deployed (`metadata.cloudRun.service`), linked to its page, with the revision. */
function ServiceLink({ project, cloudRun }: { project: string; cloudRun?: Json }) {
  const m = /^projects\/([^/]+)\/locations\/([^/]+)\/services\/([^/]+)$/.exec(String(cloudRun?.service ?? ''));
  if (!m) return null;
  // The service's own project when the name carries its id; a project number stands for the rollout's project.
  const owner = /^[0-9]+$/.test(m[1]) ? project : m[1];
  const revision = id(cloudRun?.revision);
  return <><a href={link('p', owner, 'services', m[2], m[3])}>{m[3]}</a>{revision ? <span class="muted"> revision {revision}</span> : null}</>;
}

function Rollout({ project, loc, pid, rid, ro }: { project: string; loc: string; pid: string; rid: string; ro: string }) {
  const name = `projects/${project}/locations/${loc}/deliveryPipelines/${pid}/releases/${rid}/rollouts/${ro}`;
  const release = `projects/${project}/locations/${loc}/deliveryPipelines/${pid}/releases/${rid}`;
  const data = useLive(async () => {
    const [rollout, jobRuns, siblings, rel] = await Promise.all([get(`${V1}${name}`), list(`${V1}${name}/jobRuns`, 'jobRuns'), list(`${V1}${release}/rollouts`, 'rollouts'), get(`${V1}${release}`)]);
    return { rollout, jobRuns, siblings, release: rel };
  }, [name], [name]);
  const [promoted, setPromoted] = useState('');
  const actions = ({ rollout: r, siblings, release: rel }: { rollout: Json; siblings: Json[]; release: Json }): ComponentChildren => {
    const pending = r.state === 'PENDING_APPROVAL';
    const next = r.state === 'IN_PROGRESS' ? nextPhase(r) : undefined;
    const act = (verb: string, body: Json = {}) => post(`${V1}${name}:${verb}`, body);
    // Promote, as gcloud's `releases promote` does: to the stage after this one in the release's pipeline snapshot,
    // as `{release}-to-{target}-{NNNN}`.
    const stages = ((rel.deliveryPipelineSnapshot?.serialPipeline?.stages ?? []) as Json[]).map(s => String(s.targetId));
    const to = r.state === 'SUCCEEDED' && !r.controllerRollout ? stages[stages.indexOf(r.targetId) + 1] : undefined;
    const promote = async () => {
      const n = siblings.filter(s => s.targetId === to).length + 1;
      const rolloutId = `${rid}-to-${to}-${String(n).padStart(4, '0')}`;
      // Asked, as gcloud asks, naming what already waits on the target (read now, not when the page loaded).
      const waiting = await unfinishedOn(`projects/${project}/locations/${loc}/deliveryPipelines/${pid}`, String(to));
      const note = waiting.map(w => ` Rollout ${id(w.name)} (release ${String(w.name).split('/')[7]}) is already ${String(w.state).replace(/_/g, ' ').toLowerCase()} on ${to}.`).join('');
      if (!window.confirm(`Promote release ${rid} to ${to}? This creates rollout ${rolloutId}.${note}`)) return;
      await post(`${V1}${release}/rollouts?rolloutId=${encodeURIComponent(rolloutId)}`, { targetId: to });
      setPromoted(rolloutId);
    };
    return (
      <>
        {to ? <Action label={`Promote to ${to}`} kind="primary" run={promote} /> : null}
        {pending ? <Action label="Approve" kind="primary" run={() => act('approve', { approved: true })} /> : null}
        {pending ? <Action label="Reject" kind="danger" confirm={`Reject rollout ${ro}?`} run={() => act('approve', { approved: false })} /> : null}
        {next ? <Action label={`Advance to ${next}`} kind="primary" run={() => act('advance', { phaseId: next })} /> : null}
        {!FINISHED.has(r.state) ? <Action label="Cancel" kind="danger" confirm={`Cancel rollout ${ro}?`} run={() => act('cancel')} /> : null}
      </>
    );
  };
  return (
    <Page title={`Rollout ${ro}`} crumbs={[['Gantry', '#/'], [project, link('p', project, 'deploy')], [pid, link('p', project, 'deploy', loc, pid)], [rid, link('p', project, 'deploy', loc, pid, 'releases', rid)]]}
      actions={data.data ? actions(data.data) : undefined}>
      {promoted ? <p role="status" class="note">Created rollout <a href={link('p', project, 'deploy', loc, pid, 'releases', rid, 'rollouts', promoted)}>{promoted}</a>.</p> : null}
      <Loading loaded={data}>{({ rollout, jobRuns }) => (
        <>
          <Fields items={[
            ['State', <State value={rollout.state} />], ['Approval', <State value={rollout.approvalState} />], ['Target', rollout.targetId],
            ['Created', <Time value={rollout.createTime} />], ['Deploy started', <Time value={rollout.deployStartTime} />], ['Deploy ended', <Time value={rollout.deployEndTime} />],
            ['Approved', <Time value={rollout.approveTime} />], ['Failure', rollout.failureReason ? <span class="error-text">{rollout.failureReason}</span> : undefined],
            ['Cloud Run service', rollout.metadata?.cloudRun?.service ? <ServiceLink project={project} cloudRun={rollout.metadata.cloudRun} /> : undefined],
          ]} />
          <Section title="Phases and jobs"><Timeline project={project} rollout={rollout} jobRuns={jobRuns} /></Section>
        </>
      )}</Loading>
    </Page>
  );
}

export function DeployPage({ project, path }: { project: string; path: string[] }) {
  const [loc, pid, r1, rid, r2, ro] = path;
  if (!loc) return <Pipelines project={project} />;
  if (pid && !r1) return <Pipeline project={project} loc={loc} pid={pid} />;
  if (r1 === 'releases' && rid && !r2) return <Release project={project} loc={loc} pid={pid} rid={rid} />;
  if (r2 === 'rollouts' && ro) return <Rollout key={ro} project={project} loc={loc} pid={pid} rid={rid} ro={ro} />;
  return <Page title="Not found"><p>No such Cloud Deploy page.</p></Page>;
}
