// Skaffold expands Go templates (util.ExpandEnvTemplate) in manifest paths, helm release names, chart paths,
// namespaces, values files and setValueTemplates, over the OS environment plus image variables. Here only field
// references (`{{.NAME}}`, with optional spaces and `-` trim markers) are supported, and only over the variables
// the engine provides: Gantry's own environment is never exposed to a user's config (it would let a config
// copy the operator's secrets into manifests). Anything else in `{{…}}` is refused rather than mis-rendered.

const ACTION = /\{\{(-?)\s*(.*?)\s*(-?)\}\}/gs;

/**
 * Expands `s`. A reference to a missing variable gives Go's "<no value>", or throws with `orFail`
 * (ExpandEnvTemplateOrFail's missingkey=error).
 */
export function expandTemplate(s: string, vars: Record<string, string>, orFail = false): string {
  if (!s.includes('{{')) return s;
  let out = '';
  let last = 0;
  for (const m of s.matchAll(ACTION)) {
    let before = s.slice(last, m.index);
    if (m[1] === '-') before = before.replace(/\s+$/, '');
    out += before;
    const expr = m[2];
    const ref = /^\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(expr);
    if (!ref) throw new Error(`unable to parse template: ${JSON.stringify(s)}: only {{.NAME}} references are supported`);
    const v = vars[ref[1]];
    if (v === undefined && orFail) throw new Error(`template: envTemplate: map has no entry for key "${ref[1]}"`);
    out += v ?? '<no value>';
    last = (m.index ?? 0) + m[0].length;
    if (m[3] === '-') {
      const rest = s.slice(last);
      last += rest.length - rest.replace(/^\s+/, '').length;
    }
  }
  const tail = s.slice(last);
  if (tail.includes('{{')) throw new Error(`unable to parse template: ${JSON.stringify(s)}: unclosed action`);
  return out + tail;
}
