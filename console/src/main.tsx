// The console's shell: a header with the project, the sections and the clock; a hash router (`#/p/{project}/…`) that
// picks the page. Every page reads the same APIs the Google clients call, and follows the event stream.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get } from './api.js';
import { useFeedStatus, useLive } from './live.js';
import { link, Page, Loading, Table } from './ui.js';
import { ClockBadge, ClockPage, clockLink } from './clock.js';
import { DeployPage } from './deploy.js';
import { RunPage } from './run.js';
import { ServicesPage } from './services.js';
import { AppHostingPage } from './apphosting.js';
import { SecretsPage } from './secrets.js';
import { LogsPage } from './logs.js';

function useRoute(): string[] {
  const parse = () => location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(s => { try { return decodeURIComponent(s); } catch { return s; } });
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = () => {
      setRoute(parse());
      // Focus moves to the new page's content, as a screen reader user expects after following a link.
      requestAnimationFrame(() => document.getElementById('main')?.focus({ preventScroll: true }));
    };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

const SECTIONS: [string, string][] = [['deploy', 'Cloud Deploy'], ['run', 'Cloud Run jobs'], ['services', 'Cloud Run services'], ['apphosting', 'App Hosting'], ['secrets', 'Secrets'], ['logs', 'Logs']];

function useProjects() {
  return useLive(async () => (await get<{ projects?: string[] }>('/gantry/v1/projects')).projects ?? [], [''], []);
}

function Header({ project, section }: { project?: string; section?: string }) {
  const projects = useProjects();
  const feed = useFeedStatus();
  const choose = (e: Event) => {
    const p = (e.target as HTMLSelectElement).value;
    if (p) location.hash = link('p', p, section ?? 'deploy');
  };
  return (
    <header class="top">
      <a class="skip" href="#main" onClick={e => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <a class="brand" href="#/"><img src="/console/icon.svg" alt="" width="24" height="24" /> Gantry</a>
      <label class="project">
        <span class="sr-only">Project</span>
        <select value={project ?? ''} onChange={choose} aria-label="Project">
          {project ? null : <option value="">Choose a project</option>}
          {[...new Set([...(project ? [project] : []), ...(projects.data ?? [])])].map(p => <option value={p}>{p}</option>)}
        </select>
      </label>
      <nav aria-label="Sections" class="sections">
        <ul>
          {project ? SECTIONS.map(([s, label]) => <li><a href={link('p', project, s)} aria-current={s === section ? 'page' : undefined}>{label}</a></li>) : null}
          <li><a href={clockLink(project)} aria-current={section === 'clock' ? 'page' : undefined}>Clock &amp; scenarios</a></li>
        </ul>
      </nav>
      <div class="status">
        <ClockBadge project={project} />
        <span class={`feed ${feed}`} role="status" title="The event stream the pages follow">{feed === 'live' ? 'live' : feed}</span>
      </div>
    </header>
  );
}

function Home() {
  const projects = useProjects();
  return (
    <Page title="Projects">
      <p class="lead">Cloud Deploy, Cloud Run jobs and services, and Firebase App Hosting on this machine. Pick a project to see its pipelines, jobs, services and backends; they follow every change live.</p>
      <Loading loaded={projects}>{ps => (
        <Table caption="Projects" head={['Project', 'Cloud Deploy', 'Cloud Run jobs', 'Cloud Run services', 'App Hosting']} empty="No project has anything stored yet: create something with gcloud or a client library, and it shows here."
          rows={ps.map(p => [<a href={link('p', p, 'deploy')}>{p}</a>, <a href={link('p', p, 'deploy')}>pipelines</a>, <a href={link('p', p, 'run')}>jobs</a>, <a href={link('p', p, 'services')}>services</a>, <a href={link('p', p, 'apphosting')}>backends</a>])} />
      )}</Loading>
    </Page>
  );
}

function NotFound() {
  return <Page title="Not found"><p>The console has no such page. <a href="#/">Start again</a>.</p></Page>;
}

function App() {
  const route = useRoute();
  const [first, project, section, ...rest] = route;
  // The clock belongs to no project, but its page keeps the one chosen in its address (`#/p/{project}/clock`), or
  // the tab's last one.
  if (first === 'p' && project) sessionStorage.setItem('gantry.project', project);
  const current = first === 'p' ? project : sessionStorage.getItem('gantry.project') ?? undefined;
  let page;
  if (!first) page = <Home />;
  else if (first === 'clock' || (first === 'p' && project && section === 'clock' && !rest.length)) page = <ClockPage project={current} />;
  else if (first === 'p' && project && section === 'deploy') page = <DeployPage project={project} path={rest} />;
  else if (first === 'p' && project && section === 'run') page = <RunPage project={project} path={rest} />;
  else if (first === 'p' && project && section === 'services') page = <ServicesPage project={project} path={rest} />;
  else if (first === 'p' && project && section === 'apphosting') page = <AppHostingPage project={project} path={rest} />;
  else if (first === 'p' && project && section === 'secrets') page = <SecretsPage project={project} path={rest} />;
  else if (first === 'p' && project && section === 'logs' && !rest.length) page = <LogsPage key={project} project={project} />;
  else page = <NotFound />;
  return (
    <>
      <Header project={current} section={first === 'clock' ? 'clock' : section} />
      {page}
    </>
  );
}

const root = document.getElementById('root')!;
root.textContent = '';
render(<App />, root);
