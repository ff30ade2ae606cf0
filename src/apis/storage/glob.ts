// Cloud Storage's `matchGlob` (objects.list), matched in linear time: the pattern is compiled to a Thompson NFA
// and simulated over the name's code points, so no pattern (`*a*a*a*…b`, nested braces) can backtrack; every
// match step is counted against a budget the caller gives, so one list request does bounded work.
//
//   *        any run of characters except `/`          ?       one character except `/`
//   **       any run of characters, `/` included; `**/` also matches no directory at all (`a/**/b` matches `a/b`)
//   [abc]    one of the characters; ranges `[a-z]`; `[!…]` or `[^…]` negates (never matches `/`)
//   {x,y}    either alternative (nested up to 10 levels)          \c      the character c itself
import { errors } from '../../google/errors.js';

/** Longest pattern accepted (Cloud Storage bounds it by the object name limit). */
export const MAX_GLOB_BYTES = 1024;
const MAX_BRACE_DEPTH = 10;
const SLASH = 0x2f;

type Pred = (c: number) => boolean;
// EPS: epsilon edges to `a` (and `b`); CHAR: one code point satisfying pred, then `a`; MATCH: accept.
const EPS = 0, CHAR = 1, MATCH = 2;
interface Node { kind: number; a: number; b: number; pred?: Pred }
interface Frag { start: number; end: number }

export class Glob {
  private nodes: Node[] = [];
  private start: number;
  private pos = 0;
  private chars: number[];

  constructor(readonly pattern: string) {
    if (Buffer.byteLength(pattern) > MAX_GLOB_BYTES) throw invalid(pattern, `longer than ${MAX_GLOB_BYTES} bytes`);
    this.chars = Array.from(pattern, ch => ch.codePointAt(0)!);
    const f = this.sequence(0, false);
    if (this.pos < this.chars.length) throw invalid(pattern, `unexpected "${String.fromCodePoint(this.chars[this.pos])}"`);
    const m = this.node(MATCH);
    this.nodes[f.end].a = m;
    this.start = f.start;
  }

  /**
   * Whether `name` matches. `budget.steps` is charged one per (character, live state) pair; the caller ends its
   * work when it runs out. Cost is at most (name length + 1) × (pattern size).
   */
  matches(name: string, budget: { steps: number }): boolean {
    const n = this.nodes.length;
    const seen = new Int32Array(n).fill(-1);
    let cur: number[] = [];
    let gen = 0;
    const add = (list: number[], id: number) => {
      // Iterative epsilon closure.
      const stack = [id];
      while (stack.length) {
        const s = stack.pop()!;
        if (seen[s] === gen) continue;
        seen[s] = gen;
        const node = this.nodes[s];
        if (node.kind === EPS) {
          if (node.b >= 0) stack.push(node.b);
          if (node.a >= 0) stack.push(node.a);
        } else list.push(s);
      }
    };
    add(cur, this.start);
    for (const ch of name) {
      const c = ch.codePointAt(0)!;
      gen++;
      const next: number[] = [];
      budget.steps -= cur.length + 1;
      for (const s of cur) {
        const node = this.nodes[s];
        if (node.kind === CHAR && node.pred!(c)) add(next, node.a);
      }
      cur = next;
      if (!cur.length) return false;
    }
    return cur.some(s => this.nodes[s].kind === MATCH);
  }

  private node(kind: number, pred?: Pred): number {
    this.nodes.push({ kind, a: -1, b: -1, pred });
    return this.nodes.length - 1;
  }

  private eps(): Frag { const e = this.node(EPS); return { start: e, end: e }; }

  private char(pred: Pred): Frag {
    const c = this.node(CHAR, pred);
    const e = this.node(EPS);
    this.nodes[c].a = e;
    return { start: c, end: e };
  }

  private concat(x: Frag, y: Frag): Frag { this.nodes[x.end].a = y.start; return { start: x.start, end: y.end }; }

  /** Zero or more of `body`. */
  private star(body: Frag): Frag {
    const s = this.node(EPS);
    const e = this.node(EPS);
    this.nodes[s].a = body.start;
    this.nodes[s].b = e;
    this.nodes[body.end].a = s;
    return { start: s, end: e };
  }

  private alt(parts: Frag[]): Frag {
    const e = this.node(EPS);
    // A chain of binary splits, one per alternative.
    let first = -1, prev = -1;
    for (const p of parts) {
      const s = this.node(EPS);
      this.nodes[s].a = p.start;
      this.nodes[p.end].a = e;
      if (prev >= 0) this.nodes[prev].b = s; else first = s;
      prev = s;
    }
    return { start: first, end: e };
  }

  /** Elements up to the end, or (inside braces) up to an unnested `,` or `}`. */
  private sequence(depth: number, inBraces: boolean): Frag {
    let f = this.eps();
    const cs = this.chars;
    while (this.pos < cs.length) {
      const c = cs[this.pos];
      if (inBraces && (c === 0x2c || c === 0x7d)) break;
      const atSegmentStart = this.pos === 0 || cs[this.pos - 1] === SLASH;
      if (c === 0x2a) { // *
        if (cs[this.pos + 1] === 0x2a) {
          this.pos += 2;
          while (cs[this.pos] === 0x2a) this.pos++;
          const any = this.star(this.char(() => true));
          if (atSegmentStart && cs[this.pos] === SLASH) {
            // `**/`: any directories, or none.
            this.pos++;
            f = this.concat(f, this.alt([this.eps(), this.concat(any, this.char(x => x === SLASH))]));
          } else f = this.concat(f, any);
        } else {
          this.pos++;
          f = this.concat(f, this.star(this.char(x => x !== SLASH)));
        }
      } else if (c === 0x3f) { // ?
        this.pos++;
        f = this.concat(f, this.char(x => x !== SLASH));
      } else if (c === 0x5b) { // [
        f = this.concat(f, this.char(this.bracket()));
      } else if (c === 0x7b) { // {
        if (depth >= MAX_BRACE_DEPTH) throw invalid(this.pattern, `braces nested deeper than ${MAX_BRACE_DEPTH}`);
        this.pos++;
        const parts: Frag[] = [];
        for (;;) {
          parts.push(this.sequence(depth + 1, true));
          if (this.pos >= cs.length) throw invalid(this.pattern, 'unterminated "{"');
          if (cs[this.pos++] === 0x7d) break;
        }
        f = this.concat(f, this.alt(parts));
      } else if (c === 0x5c) { // backslash
        if (this.pos + 1 >= cs.length) throw invalid(this.pattern, 'trailing "\\"');
        const lit = cs[this.pos + 1];
        this.pos += 2;
        f = this.concat(f, this.char(x => x === lit));
      } else {
        this.pos++;
        f = this.concat(f, this.char(x => x === c));
      }
    }
    return f;
  }

  /** `[...]` at pos: a predicate over one code point. */
  private bracket(): Pred {
    const cs = this.chars;
    let i = this.pos + 1;
    let negate = false;
    if (cs[i] === 0x21 || cs[i] === 0x5e) { negate = true; i++; }
    const ranges: [number, number][] = [];
    let first = true;
    for (;;) {
      if (i >= cs.length) throw invalid(this.pattern, 'unterminated "["');
      let c = cs[i];
      if (c === 0x5d && !first) { i++; break; }
      first = false;
      if (c === 0x5c) {
        if (i + 1 >= cs.length) throw invalid(this.pattern, 'unterminated "["');
        c = cs[++i];
      }
      i++;
      if (cs[i] === 0x2d && i + 1 < cs.length && cs[i + 1] !== 0x5d) {
        let hi = cs[i + 1];
        i += 2;
        if (hi === 0x5c) {
          if (i >= cs.length) throw invalid(this.pattern, 'unterminated "["');
          hi = cs[i++];
        }
        if (hi < c) throw invalid(this.pattern, `range "${String.fromCodePoint(c)}-${String.fromCodePoint(hi)}" is out of order`);
        ranges.push([c, hi]);
      } else ranges.push([c, c]);
    }
    this.pos = i;
    // Sorted, merged ranges searched by bisection: a long class costs log(size) per character, not its size.
    ranges.sort((x, y) => x[0] - y[0]);
    const merged: [number, number][] = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]); else merged.push([r[0], r[1]]);
    }
    const inSet = (x: number) => {
      let lo = 0, hi = merged.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (x < merged[mid][0]) hi = mid - 1; else if (x > merged[mid][1]) lo = mid + 1; else return true;
      }
      return false;
    };
    return negate ? x => x !== SLASH && !inSet(x) : inSet;
  }
}

function invalid(pattern: string, why: string) {
  const shown = pattern.length > 100 ? pattern.slice(0, 100) + '…' : pattern;
  return errors.invalidArgument(`The matchGlob parameter "${shown}" is invalid: ${why}.`, 'matchGlob');
}
