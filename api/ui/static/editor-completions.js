// Autocomplete for the journey YAML: after a key that names a step (next, on_event, on_timeout,
// else), the step ids in the text; after `email:` the templates; after `set_stage:` or `stage:` the
// stages; after `event:` or inside `exit_on` the events seen; at a key's place, the keys the JSON
// Schema allows there (top level, or a step's keys and kinds).
const STEP_KEYS = /(?:^|[\s{,])(next|on_event|on_timeout|else)\s*:\s*([a-z0-9_]*)$/;
const TEMPLATE_KEY = /(?:^|[\s{,])email\s*:\s*([a-z0-9_]*)$/;
const STAGE_KEY = /(?:^|[\s{,])(set_stage|stage)\s*:\s*([a-z_]*)$/;
const EVENT_KEY = /(?:^|[\s{,])event\s*:\s*([a-z0-9_.]*)$/;
const EXIT_ON = /^\s*exit_on\s*:\s*\[[^\]]*?([a-z0-9_.]*)$/;
const KEY_PLACE = /^(\s*)(?:-\s+)?(?:\{\s*|.*,\s*)?([a-z_]*)$/;

function stepIds(doc) {
  const ids = new Set();
  for (const match of doc.matchAll(/(?:^|[\s{,])id\s*:\s*([a-z][a-z0-9_]*)/gm)) ids.add(match[1]);
  return [...ids];
}

function options(values, type, detail) {
  return values.map((label) => ({ label, type, detail }));
}

export function completions(vocabulary) {
  const topKeys = vocabulary.keys.journey || [];
  const stepKeys = [...new Set([...(vocabulary.keys.step || []), 'id'])];
  return (context) => {
    const line = context.state.doc.lineAt(context.pos);
    const before = line.text.slice(0, context.pos - line.from);
    const word = context.matchBefore(/[a-z0-9_.]*/);
    const from = word ? word.from : context.pos;
    let match = before.match(STEP_KEYS);
    if (match) return { from, options: options(stepIds(context.state.doc.toString()), 'variable', 'step') };
    if (TEMPLATE_KEY.test(before)) return { from, options: options(vocabulary.templates, 'constant', 'template') };
    if (STAGE_KEY.test(before)) return { from, options: options(vocabulary.stages, 'enum', 'stage') };
    if (EVENT_KEY.test(before) || EXIT_ON.test(before)) return { from, options: options(vocabulary.events, 'text', 'event') };
    match = before.match(KEY_PLACE);
    if (!match || (!context.explicit && !match[2])) return null;
    const indent = match[1].length;
    if (indent === 0 && !before.trimStart().startsWith('-')) {
      return { from, options: options(topKeys, 'property', 'journey key').map((o) => ({ ...o, apply: `${o.label}: ` })) };
    }
    const kinds = options(vocabulary.kinds, 'keyword', 'step kind').map((o) => ({ ...o, apply: `${o.label}: `, boost: 1 }));
    const keys = options(stepKeys.filter((k) => !vocabulary.kinds.includes(k)), 'property', 'step key')
      .map((o) => ({ ...o, apply: `${o.label}: ` }));
    return { from, options: [...kinds, ...keys] };
  };
}
