// A line diff of two texts (rendered manifests), for the release page: the common head and tail are cut off, the
// middle is diffed by longest common subsequence, and long unchanged runs fold to a count. Bounded: past
// MAX_CELLS the middle shows as all removed then all added instead of spending the tab's memory.
export type DiffLine = { op: ' ' | '+' | '-'; text: string } | { op: '…'; count: number };

const MAX_CELLS = 4_000_000;
const CONTEXT = 3;

function middle(a: string[], b: string[]): { op: ' ' | '+' | '-'; text: string }[] {
  const n = a.length, m = b.length;
  if (n * m > MAX_CELLS) return [...a.map(text => ({ op: '-' as const, text })), ...b.map(text => ({ op: '+' as const, text }))];
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..], one flat array.
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i * w + j] = a[i] === b[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
  }
  const out: { op: ' ' | '+' | '-'; text: string }[] = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) { out.push({ op: ' ', text: a[i] }); i++; j++; }
    else if (lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) out.push({ op: '-', text: a[i++] });
    else out.push({ op: '+', text: b[j++] });
  }
  while (i < n) out.push({ op: '-', text: a[i++] });
  while (j < m) out.push({ op: '+', text: b[j++] });
  return out;
}

/** `before` → `after`, line by line, with at most CONTEXT unchanged lines around each change. */
export function lineDiff(before: string, after: string): DiffLine[] {
  const a = before.replace(/\n$/, '').split('\n'), b = after.replace(/\n$/, '').split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const lines = [
    ...a.slice(0, head).map(text => ({ op: ' ' as const, text })),
    ...middle(a.slice(head, a.length - tail), b.slice(head, b.length - tail)),
    ...a.slice(a.length - tail).map(text => ({ op: ' ' as const, text })),
  ];
  // Fold unchanged lines further than CONTEXT from any change.
  const near = lines.map(() => false);
  lines.forEach((l, k) => { if (l.op !== ' ') for (let d = -CONTEXT; d <= CONTEXT; d++) if (lines[k + d]) near[k + d] = true; });
  const out: DiffLine[] = [];
  for (let k = 0; k < lines.length; k++) {
    if (near[k]) { out.push(lines[k]); continue; }
    let end = k;
    while (end < lines.length && !near[end]) end++;
    out.push({ op: '…', count: end - k });
    k = end - 1;
  }
  return out;
}

/** Whether a diff holds a change. */
export const changed = (d: DiffLine[]) => d.some(l => l.op === '+' || l.op === '-');
