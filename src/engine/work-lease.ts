// Which instance does which work. Instances that share a database (PostgreSQL) all serve the API; the work (controllers,
// tasks, builds, served apps, notifications) is split among them by project: each project belongs to one of
// WORK_SLOTS slots, and each slot is held by one instance at a time. An instance holds about its share of the slots
// (all of them alone; half with two), hands slots to a newcomer, and takes over a dead instance's.
export interface WorkLease {
  /** Whether this instance does the work of the resource `name` (its project's slot is held here) now. */
  works(name: string): boolean;
  /** The slots held here, in order. */
  slots(): number[];
  /** Runs `fn` with the slots each time this instance takes some (not for those it holds already). */
  onTaken(fn: (slots: number[]) => void): void;
  /**
   * Runs `fn` with the slots each time this instance stops holding some: its connection to the shared store is gone
   * (`handedOver` false: another instance may hold them within the keepalives' time, so the work stops at once and
   * records nothing), or it handed them to an instance that holds fewer (`handedOver` true: only slots with no task
   * under way are handed over).
   */
  onLost(fn: (slots: number[], handedOver: boolean) => void): void;
  /** Says which slots have work under way that cannot move (running tasks): those are not handed to a newcomer. */
  busyWith(fn: (slot: number) => boolean): void;
  /** The URL of the instance holding the slot of `name`'s project, when another one holds it. */
  holderOf(name: string): string | undefined;
  close(): void;
}

/** How many slots the work is split into: enough to share among a handful of instances, few enough to scan each second. */
export const WORK_SLOTS = 16;

/** The meta key prefix where each slot's holder records its URL (`work.holder.3`), for the instances that forward to it. */
export const HOLDER_META = 'work.holder.';

/** The project a resource name belongs to (`projects/{p}/…`), or '' for a name outside any project. */
export function projectOfName(name: string): string {
  if (!name.startsWith('projects/')) return '';
  const end = name.indexOf('/', 9);
  return end < 0 ? name.slice(9) : name.slice(9, end);
}

/** The slot of a project: FNV-1a of its id, so every instance (and every version) places it alike. */
export function slotOfProject(project: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < project.length; i++) h = Math.imul(h ^ project.charCodeAt(i), 0x01000193);
  return (h >>> 0) % WORK_SLOTS;
}

export function slotOfName(name: string): number { return slotOfProject(projectOfName(name)); }

const ALL_SLOTS = Array.from({ length: WORK_SLOTS }, (_, i) => i);

/** A store no other instance shares (SQLite in a locked data directory): this instance does all the work. */
export const SOLE_LEASE: WorkLease = {
  works: () => true, slots: () => ALL_SLOTS, onTaken() {}, onLost() {}, busyWith() {}, holderOf: () => undefined, close() {},
};
