// How deep JSON may nest. A document nested past this is refused before it is parsed: JSON.parse copes with any
// depth, but everything after it that walks the value (JSON.stringify, field masks, filters) recurses and would
// overflow the stack. The HTTP body parser and snapshot import hold input to the same bound.

/** Deepest JSON nesting a request body may have (Google's JSON parsers refuse 100+ levels too). */
export const MAX_JSON_DEPTH = 100;

/** The deepest nesting of objects and arrays in `text`, counted without parsing; stops counting past `limit`. */
export function nestingDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0, max = 0, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash escapes the next character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) { if (++depth > max) max = depth; if (max > limit) return max; }
    else if (c === 125 || c === 93) depth--;
  }
  return max;
}
