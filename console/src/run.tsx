// Cloud Run jobs (through the v2 API): jobs with a run button, a job's executions with task counts and progress, an
// execution's tasks with their exit codes and logs.
import { useState } from 'preact/hooks';
import { get, list, post, type Json } from './api.js';
import { useLive } from './live.js';
import { Action, Duration, Fields, id, link, Loading, LogView, Page, Progress, Section, State, Table, Time } from './ui.js';

const V2 = '/v2/';

/**
 * The names the event feed gives a job's executions and tasks: Gantry stores them flat per region, as the v1 API
 * names them (`…/locations/L/executions/E`, `…/locations/L/tasks/E-taskN`), not nested under the job as v2 shows them.
 * An execution's id starts with its job's and a `-`, a task's with its execution's.
 */
function feedNames(project: string, loc: string, of: string): string[] {
  const region = `projects/${project}/locations/${loc}`;
  return [`${region}/executions/${of}`, `${region}/tasks/${of}`];
}

function condition(r: Json, type: string): Json | undefined {
  return ((r.conditions ?? []) as Json[]).find(c => c.type === type);
}

/** An execution's or a task's state, from its Completed condition as the Cloud console reads it. */
function stateOf(r: Json): string {
  const done = condition(r, 'Completed');
  if (done?.state === 'CONDITION_SUCCEEDED') return 'SUCCEEDED';
  if (done?.state === 'CONDITION_FAILED') return r.cancelledCount || /cancel/i.test(done.reason ?? done.executionReason ?? '') ? 'CANCELLED' : 'FAILED';
  if (r.completionTime) return 'CANCELLED';
  if (r.startTime || condition(r, 'Started')?.state === 'CONDITION_SUCCEEDED') return 'RUNNING';
  return 'PENDING';
}

function ExecutionProgress({ ex }: { ex: Json }) {
  const total = Number(ex.taskCount ?? 0);
  const parts: [string, number][] = [['succeeded', ex.succeededCount ?? 0], ['failed', ex.failedCount ?? 0], ['cancelled', ex.cancelledCount ?? 0], ['running', ex.runningCount ?? 0]];
  return (
    <div class="progress-cell">
      <Progress label={`Tasks of ${id(ex.name)}`} parts={parts} total={total} />
      <span class="muted">{ex.succeededCount ?? 0}/{total} succeeded{ex.failedCount ? `, ${ex.failedCount} failed` : ''}{ex.runningCount ? `, ${ex.runningCount} running` : ''}{ex.retriedCount ? `, ${ex.retriedCount} retried` : ''}</span>
    </div>
  );
}

function RunButton({ job, onRan }: { job: string; onRan?: (execution: string) => void }) {
  return <Action label="Run" kind="primary" run={async () => {
    const op = await post<Json>(`${V2}${job}:run`, {});
    const ex = op.metadata?.name;
    if (ex && onRan) onRan(String(ex));
  }} />;
}

function Jobs({ project }: { project: string }) {
  const data = useLive(() => list(`${V2}projects/${project}/locations/-/jobs`, 'jobs'), [`projects/${project}/`], [project]);
  return (
    <Page title="Cloud Run jobs" crumbs={[['Gantry', '#/'], [project, link('p', project, 'run')]]}>
      <Loading loaded={data}>{jobs => (
        <Table caption="Jobs" head={['Job', 'Region', 'Tasks', 'Image', 'Last execution', 'Executions', '']} empty={`No Cloud Run jobs in ${project}. Create one with gcloud run jobs create.`}
          rows={jobs.map(j => {
            const [, , , loc, , jid] = String(j.name).split('/');
            const last = j.latestCreatedExecution;
            return [<a href={link('p', project, 'run', loc, jid)}>{jid}</a>, loc, j.template?.taskCount ?? 1, <code>{j.template?.template?.containers?.[0]?.image}</code>,
              last ? <><a href={link('p', project, 'run', loc, jid, 'executions', id(last.name))}>{id(last.name)}</a> <State value={last.completionStatus?.replace(/^EXECUTION_/, '') ?? (last.completionTime ? 'SUCCEEDED' : 'RUNNING')} /></> : <span class="muted">never run</span>,
              j.executionCount ?? 0, <RunButton job={j.name} />];
          })} />
      )}</Loading>
    </Page>
  );
}

function Job({ project, loc, jid }: { project: string; loc: string; jid: string }) {
  const name = `projects/${project}/locations/${loc}/jobs/${jid}`;
  const data = useLive(async () => {
    const [job, executions] = await Promise.all([get(`${V2}${name}`), list(`${V2}${name}/executions`, 'executions')]);
    return { job, executions };
  }, [name, ...feedNames(project, loc, `${jid}-`)], [name]);
  const [ran, setRan] = useState('');
  return (
    <Page title={jid} crumbs={[['Gantry', '#/'], [project, link('p', project, 'run')], ['Jobs', link('p', project, 'run')]]}
      actions={<RunButton job={name} onRan={setRan} />}>
      {ran ? <p role="status" class="note">Started execution <a href={link('p', project, 'run', loc, jid, 'executions', id(ran))}>{id(ran)}</a>.</p> : null}
      <Loading loaded={data}>{({ job, executions }) => {
        const t = job.template ?? {}, task = t.template ?? {}, c = task.containers?.[0] ?? {};
        return (
          <>
            <Fields items={[
              ['Image', <code>{c.image}</code>], ['Command', [...(c.command ?? []), ...(c.args ?? [])].join(' ') || undefined], ['Tasks', t.taskCount ?? 1],
              ['Parallelism', t.parallelism || 'all at once'], ['Max retries', task.maxRetries ?? 3], ['Task timeout', task.timeout],
              ['Created', <Time value={job.createTime} />], ['Ready', <State value={job.terminalCondition?.state} />],
            ]} />
            <Section title="Executions">
              <Table caption="Executions" head={['Execution', 'State', 'Tasks', 'Created', 'Took']} empty="Not run yet."
                rows={executions.map(ex => [<a href={link('p', project, 'run', loc, jid, 'executions', id(ex.name))}>{id(ex.name)}</a>, <State value={stateOf(ex)} />,
                  <ExecutionProgress ex={ex} />, <Time value={ex.createTime} />, <Duration from={ex.startTime} to={ex.completionTime} />])} />
            </Section>
          </>
        );
      }}</Loading>
    </Page>
  );
}

function Execution({ project, loc, jid, eid }: { project: string; loc: string; jid: string; eid: string }) {
  const name = `projects/${project}/locations/${loc}/jobs/${jid}/executions/${eid}`;
  const data = useLive(async () => {
    const [execution, tasks] = await Promise.all([get(`${V2}${name}`), list(`${V2}${name}/tasks`, 'tasks')]);
    return { execution, tasks: tasks.sort((a, b) => a.index - b.index) };
  }, feedNames(project, loc, eid), [name]);
  const [open, setOpen] = useState<number | undefined>();
  return (
    <Page title={`Execution ${eid}`} crumbs={[['Gantry', '#/'], [project, link('p', project, 'run')], [jid, link('p', project, 'run', loc, jid)]]}
      actions={data.data && stateOf(data.data.execution) === 'RUNNING' ? <Action label="Cancel" kind="danger" confirm={`Cancel execution ${eid}?`} run={() => post(`${V2}${name}:cancel`, {})} /> : undefined}>
      <Loading loaded={data}>{({ execution, tasks }) => (
        <>
          <Fields items={[
            ['State', <State value={stateOf(execution)} />], ['Tasks', <ExecutionProgress ex={execution} />], ['Created', <Time value={execution.createTime} />],
            ['Started', <Time value={execution.startTime} />], ['Completed', <Time value={execution.completionTime} />], ['Parallelism', execution.parallelism || 'all at once'],
          ]} />
          <Section title="Tasks">
            <Table caption="Tasks" head={['Task', 'State', 'Exit code', 'Retries', 'Started', 'Took', 'Log']} empty="No tasks yet."
              rows={tasks.map(t => [String(t.index), <State value={stateOf(t)} />, t.lastAttemptResult?.exitCode ?? (stateOf(t) === 'SUCCEEDED' ? 0 : '—'), t.retried ?? 0,
                <Time value={t.startTime} />, <Duration from={t.startTime} to={t.completionTime} />,
                <button type="button" aria-expanded={open === t.index} onClick={() => setOpen(open === t.index ? undefined : t.index)}>{open === t.index ? 'Hide log' : 'Show log'}</button>])} />
            {open !== undefined && tasks[open]?.logUri ? <LogView label={`Log of task ${open}`} url={tasks[open].logUri} refresh={tasks[open].etag} /> : null}
          </Section>
        </>
      )}</Loading>
    </Page>
  );
}

export function RunPage({ project, path }: { project: string; path: string[] }) {
  const [loc, jid, e, eid] = path;
  if (!loc) return <Jobs project={project} />;
  if (jid && !e) return <Job project={project} loc={loc} jid={jid} />;
  if (e === 'executions' && eid) return <Execution key={eid} project={project} loc={loc} jid={jid} eid={eid} />;
  return <Page title="Not found"><p>No such Cloud Run page.</p></Page>;
}
