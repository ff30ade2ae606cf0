// Projects by id or number. Gantry has no Resource Manager: each project id has a stable made-up number
// (project-number.ts), and an API that answers with numbers (Cloud Run v1) or is called with them must find the
// project again. Every id seen on a write is remembered under its number, so a later request by number resolves.
import type { Store, Writer } from '../store/store.js';
import { projectNumber } from './project-number.js';

export const PROJECT_NUMBER_META = 'project.number.';

/**
 * A project id as Gantry takes it: Google's form (a lowercase letter, then lowercase letters, digits and hyphens)
 * without its 6-to-30 length, so tests may use `p`, and Google's older domain-scoped ids (`example.com:my-project`).
 * What a request may name is what a snapshot carries.
 */
export const PROJECT_ID = /^(?:[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+:)?[a-z][a-z0-9-]{0,62}$/;

/** Whether `s` names a project: an id, or a number (`[1-9]` and up to 19 digits). */
export function isProjectIdOrNumber(s: string): boolean {
  return PROJECT_ID.test(s) || /^[1-9][0-9]{0,18}$/.test(s);
}
const KEY = PROJECT_NUMBER_META;

export class Projects {
  private known = new Map<string, string>();

  constructor(private store: Store) {}

  private numbers = new Map<string, string>();

  /** The number Google would answer with for `project` (an id or already a number). */
  number(project: string): string {
    let n = this.numbers.get(project);
    if (n === undefined) {
      n = projectNumber(project);
      // Bounded: ids come from requests.
      if (this.numbers.size > 10_000) this.numbers.clear();
      this.numbers.set(project, n);
    }
    return n;
  }

  /** The project id a request names: an id as it is, a number of a project seen before as its id, else the number. */
  resolve(idOrNumber: string): string {
    if (!/^[0-9]+$/.test(idOrNumber)) return idOrNumber;
    const cached = this.known.get(idOrNumber);
    if (cached) return cached;
    const id = this.store.getMeta(KEY + idOrNumber);
    if (id) this.known.set(idOrNumber, id);
    return id ?? idOrNumber;
  }

  /** Records `id` under its number, in the write that first stores something of the project. */
  remember(w: Writer, id: string): void {
    if (/^[0-9]+$/.test(id)) return;
    const n = projectNumber(id);
    if (this.known.get(n) === id) return;
    w.setMeta(KEY + n, id);
    this.known.set(n, id);
  }
}

/** The ids of the projects that hold resources (the console's project list), sorted; numbers are other names of them. */
export function knownProjects(store: Store): string[] {
  return store.projects(1000).filter(id => !/^[0-9]+$/.test(id));
}
