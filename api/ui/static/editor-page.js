// The editor page: the journey's YAML in CodeMirror beside its diagram. After each pause in typing
// the text goes to the server's check (the same validation as `journeys validate`); its problems
// show inline at their line and column, in the problems list and on their diagram node; a valid
// text redraws the diagram. Save deploys it (editors only), Review shows what it does first.
import {
  EditorState, EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection,
  defaultKeymap, history, historyKeymap, indentWithTab, syntaxHighlighting, defaultHighlightStyle,
  indentOnInput, bracketMatching, yaml, linter, lintGutter, lintKeymap, autocompletion, completionKeymap,
  searchKeymap, highlightSelectionMatches, setDiagnostics,
} from './vendor/codemirror.js';
import { draw } from './draw.js';
import { layout } from './layout.js';
import { completions } from './editor-completions.js';
import { setupReview } from './editor-review.js';
import { setupTemplates } from './editor-templates.js';
import { setupCanvas, smallestChange } from './editor-canvas.js';
import { csrfToken, getJson } from './http.js';
import { apply } from './live.js';
import { setupPreview } from './preview.js';
import { setupTooltips } from './tooltip.js';

const data = (id) => JSON.parse(document.getElementById(id).textContent);

// A problem's line and column (1-based) as a range of the text: the word there, else one character.
function range(state, problem) {
  const line = state.doc.line(Math.min(Math.max(problem.line, 1), state.doc.lines));
  const from = Math.min(line.from + Math.max(problem.column, 1) - 1, line.to);
  const word = state.wordAt(from);
  const to = word && word.from === from ? word.to : Math.min(line.to, from + 1);
  return { from, to: Math.max(to, from) };
}

// What a diagram's layout depends on: its nodes (their sizes follow their kinds) and its edges with
// their labels (sized by their text). The same structure keeps the same layout: only words change.
const structureOf = (diagram) => JSON.stringify([
  diagram.nodes.map((n) => [n.id, n.kind]),
  diagram.edges.map((e) => [e.id, e.source, e.target, e.kind, e.label]),
]);

// Zoom that holds across redraws: each new drawing is shown at the scale the reader chose. Until
// they choose one, a drawing wider than the frame is shown narrowed to its width (never below 40%),
// so no step is cut off on the right when the page opens.
const STEPS = [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.15, 1.3];
function editorZoom(bar, host) {
  let scale = 1;
  let chosen = false;
  let svg = null;
  const level = bar.querySelector('[data-zoom-level]');
  const show = () => {
    if (!svg) return;
    const [, , width, height] = svg.getAttribute('viewBox').split(' ').map(Number);
    svg.setAttribute('width', String(Math.round(width * scale)));
    svg.setAttribute('height', String(Math.round(height * scale)));
    level.textContent = `${Math.round(scale * 100)}%`;
    level.parentElement.setAttribute('aria-label', `${level.textContent}: show at actual size`);
  };
  bar.addEventListener('click', (event) => {
    const button = event.target.closest('[data-zoom]');
    if (!button || !svg) return;
    const [, , width, height] = svg.getAttribute('viewBox').split(' ').map(Number);
    const action = button.dataset.zoom;
    chosen = true;
    if (action === 'in') scale = STEPS.find((s) => s > scale + 0.001) ?? scale;
    if (action === 'out') scale = [...STEPS].reverse().find((s) => s < scale - 0.001) ?? scale;
    if (action === 'fit') scale = Math.max(STEPS[0], Math.min(1, host.clientWidth / width, host.clientHeight / height));
    if (action === 'reset') scale = 1;
    show();
  });
  const fitWidth = () => {
    const width = Number(svg.getAttribute('viewBox').split(' ')[2]);
    const room = host.clientWidth - 16;
    scale = width > room && room > 0 ? Math.max(STEPS[0], room / width) : 1;
  };
  return {
    apply: (drawn) => {
      svg = drawn;
      if (!chosen) fitWidth();
      show();
    },
  };
}

function main() {
  const root = document.getElementById('editor-workspace');
  const host = document.getElementById('diagram');
  const canSave = root.dataset.canSave === 'true';
  const saveButton = document.getElementById('save');
  const reviewButton = document.getElementById('review');
  const status = document.getElementById('check-status');
  const statusText = status.querySelector('[data-status-text]');
  const note = document.getElementById('diagram-note');
  const list = document.getElementById('problem-list');
  const none = document.getElementById('no-problems');
  const count = document.getElementById('problem-count');
  const result = document.getElementById('save-result');
  const deployed = { source: data('source-data'), version: root.dataset.version };
  const zoom = editorZoom(document.getElementById('zoom'), host);
  const state = {
    checked: null, text: deployed.source, drawn: null, structure: null, laid: null, svg: null, drawing: Promise.resolve(),
  };
  // Where customers of the current version are now, drawn on the steps the text still has: what
  // a change would touch. Read once; the journey page is the live view.
  const counts = getJson(root.dataset.countsUrl).catch(() => null);

  function setStatus(kind, words) {
    status.dataset.state = kind;
    statusText.textContent = words;
  }

  function updateButtons() {
    const valid = state.checked ? state.checked.valid : true;
    const changed = state.text !== deployed.source || Object.keys(templateEdits()).length > 0;
    if (saveButton) saveButton.disabled = !canSave || !valid || !changed || !state.checked;
    if (reviewButton) reviewButton.disabled = !canSave || !valid || !changed || !state.checked;
  }

  async function redraw(diagram) {
    const words = JSON.stringify(diagram);
    if (words === state.drawn) return;
    const structure = structureOf(diagram);
    // A new structure is laid out again (ELK keeps the model order, so what did not change mostly
    // stays where it was); the same structure with other words is drawn on the layout it had.
    const same = structure === state.structure && state.laid;
    const laid = same ? state.laid : await layout(diagram);
    const scroll = [host.scrollLeft, host.scrollTop];
    state.svg = draw(host, diagram, laid);
    zoom.apply(state.svg);
    for (const node of state.svg.querySelectorAll('[data-step]')) node.setAttribute('aria-controls', 'canvas-panel');
    if (same) [host.scrollLeft, host.scrollTop] = scroll; // the same drawing: stay where the reader was
    Object.assign(state, { drawn: words, structure, laid });
    const now = await counts;
    if (now) apply(host, diagram, now);
    canvas.attach(diagram); // after the numbers: each way's name starts with what it shows
    host.setAttribute('data-drawn', 'true');
    host.dataset.version = diagram.version;
    setupTooltips(host);
  }

  function markNodes(problems) {
    if (!state.svg) return;
    for (const node of state.svg.querySelectorAll('[data-problem]')) {
      node.removeAttribute('data-problem');
      node.classList.remove('has-problem');
      node.querySelector('.problem-mark')?.remove();
    }
    const byStep = new Map();
    for (const problem of problems) {
      if (problem.step) byStep.set(problem.step, [...(byStep.get(problem.step) || []), problem]);
    }
    for (const [step, found] of byStep) {
      const node = state.svg.querySelector(`[data-step="${CSS.escape(step)}"]`);
      if (!node) continue;
      node.classList.add('has-problem');
      node.setAttribute('data-problem', String(found.length));
      const width = Number(node.querySelector('.shape').getBBox().width);
      const mark = document.createElementNS('http://www.w3.org/2000/svg', 'g');
      mark.setAttribute('class', 'problem-mark');
      mark.setAttribute('transform', `translate(${width - 4},-6)`);
      const words = `${found.length} problem${found.length > 1 ? 's' : ''}: ${found.map((p) => p.message).join('; ')}`;
      mark.innerHTML = '<circle r="11"/><text y="4.5" text-anchor="middle">!</text>';
      const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
      title.textContent = words;
      mark.prepend(title);
      node.appendChild(mark);
      node.setAttribute('aria-description', words);
    }
  }

  function listProblems(problems, view) {
    list.replaceChildren();
    count.textContent = String(problems.length);
    none.hidden = problems.length > 0;
    for (const problem of problems) {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'problem';
      button.dataset.line = String(problem.line);
      button.dataset.step = problem.step || '';
      const where = document.createElement('span');
      where.className = 'where';
      where.textContent = `Line ${problem.line}:${problem.column}`;
      const words = document.createElement('span');
      words.className = 'words';
      words.textContent = problem.path ? `${problem.path}: ${problem.message}` : problem.message;
      button.append(where, words);
      button.addEventListener('click', () => {
        const { from } = range(view.state, problem);
        view.dispatch({ selection: { anchor: from }, scrollIntoView: true });
        view.focus();
      });
      item.appendChild(button);
      list.appendChild(item);
    }
  }

  async function checkText(view) {
    const text = view.state.doc.toString();
    const edits = templateEdits();
    const asked = JSON.stringify([text, edits]);
    if (asked === state.asked && state.checked) return diagnosticsOf(view.state, state.checked);
    setStatus('checking', 'Checking…');
    const response = await fetch(root.dataset.checkUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrfToken() },
      body: JSON.stringify({ source: text, templates: edits }),
    });
    if (!response.ok) {
      let detail = `${response.status} ${response.statusText}`;
      try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
      setStatus('failed', `Could not check the text: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
      return [];
    }
    const checked = await response.json();
    if (JSON.stringify([view.state.doc.toString(), templateEdits()]) !== asked) return []; // typed on: the next check answers
    state.checked = checked;
    state.text = text;
    state.asked = asked;
    show(view, checked);
    return diagnosticsOf(view.state, checked);
  }

  function show(view, checked) {
    listProblems(checked.problems, view);
    templates.showProblems(checked.problems);
    if (checked.valid) {
      note.textContent = `Drawn from the text as it is: version ${checked.version}.`;
      state.drawing = state.drawing.then(() => redraw(checked.diagram)).then(() => markNodes([]));
      const changed = state.text !== deployed.source || Object.keys(templateEdits()).length > 0;
      setStatus(changed ? 'valid' : 'unchanged', changed ? 'Valid · not deployed yet' : 'No changes');
    } else {
      note.textContent = 'Drawn from the last text without problems; the marked steps have problems.';
      state.drawing = state.drawing.then(() => markNodes(checked.problems));
      const n = checked.problems.length;
      setStatus('invalid', `${n} problem${n > 1 ? 's' : ''} · cannot be saved`);
    }
    // Drawn and marked: tests and bench/ui_editor.py wait for this (with the text it answers).
    state.drawing.then(() => {
      host.setAttribute('data-checked', String(Date.now()));
      window.lastChecked = state.text;
      document.dispatchEvent(new CustomEvent('journeys:checked', { detail: { text: state.text, valid: checked.valid } }));
    });
    updateButtons();
  }

  function diagnosticsOf(editorState, checked) {
    return checked.problems.map((problem) => ({
      ...range(editorState, problem),
      severity: 'error',
      message: problem.message,
      source: problem.path || undefined,
    }));
  }

  const nonce = document.querySelector('meta[name="style-nonce"]').getAttribute('content');
  let view = null;
  let templateTimer = null;
  const templates = setupTemplates({
    tabs: data('templates-data'),
    sample: data('sample-data'),
    readOnly: !canSave,
    previewUrl: root.dataset.previewUrl,
    nonce,
    onEdit: () => {
      setStatus('editing', 'Editing…');
      if (saveButton) saveButton.disabled = true;
      if (reviewButton) reviewButton.disabled = true;
      clearTimeout(templateTimer);
      templateTimer = setTimeout(recheck, Number(root.dataset.delayMs) || 200);
    },
  });
  const templateEdits = () => templates.edits();
  const canvas = setupCanvas({
    host,
    panel: document.getElementById('canvas-panel'),
    editUrl: '/v1/journeys/edit',
    vocabulary: data('vocabulary-data'),
    text: () => view.state.doc.toString(),
    replace: (source) => {
      view.dispatch({ changes: smallestChange(view.state.doc.toString(), source), scrollIntoView: true });
    },
    enabled: canSave,
  });
  // A template edited: the same check as typing in the YAML, its problems put in the YAML's gutter.
  async function recheck() {
    if (!view || !canSave) return;
    const diagnostics = await checkText(view);
    if (JSON.stringify([view.state.doc.toString(), templateEdits()]) === state.asked) {
      view.dispatch(setDiagnostics(view.state, diagnostics));
    }
  }
  const vocabulary = data('vocabulary-data');
  const extensions = [
    lineNumbers(),
    highlightActiveLineGutter(),
    history(),
    drawSelection(),
    indentOnInput(),
    bracketMatching(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    yaml(),
    lintGutter(),
    // tabindex: the text is focusable anyway (contenteditable); said so for checkers such as axe.
    EditorView.contentAttributes.of({ 'aria-label': document.getElementById('source').dataset.label, tabindex: '0' }),
    EditorView.lineWrapping,
    // CodeMirror's own styles come as a <style> element: the page's policy lets in this nonce's only.
    EditorView.cspNonce.of(nonce),
    keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap, ...lintKeymap, ...completionKeymap, indentWithTab]),
  ];
  if (canSave) {
    extensions.push(
      linter((view) => checkText(view), { delay: Number(root.dataset.delayMs) || 300 }),
      autocompletion({ override: [completions(vocabulary)], activateOnTyping: true }),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) {
          setStatus('editing', 'Editing…');
          if (saveButton) saveButton.disabled = true;
          if (reviewButton) reviewButton.disabled = true;
        }
      }),
    );
  } else {
    extensions.push(EditorState.readOnly.of(true));
  }
  view = new EditorView({
    parent: document.getElementById('source'),
    state: EditorState.create({ doc: deployed.source, extensions }),
  });

  state.drawing = redraw(data('diagram-data')).catch((failure) => {
    const message = document.createElement('p');
    message.className = 'alert';
    message.setAttribute('role', 'alert');
    message.textContent = `The diagram could not be drawn (${failure.message}).`;
    host.replaceChildren(message);
    host.setAttribute('data-drawn', 'failed');
  });

  async function save() {
    saveButton.disabled = true;
    setStatus('saving', 'Deploying…');
    const text = view.state.doc.toString();
    const edits = templateEdits();
    const response = await fetch(root.dataset.saveUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrfToken() },
      body: JSON.stringify({ source: text, templates: edits }),
    });
    const body = await response.json().catch(() => ({}));
    result.hidden = false;
    if (!response.ok) {
      result.className = 'alert';
      result.textContent = typeof body.detail === 'string' ? body.detail : `Not deployed (${response.status} ${response.statusText})`;
      setStatus('failed', 'Not deployed');
      updateButtons();
      return;
    }
    deployed.source = text;
    deployed.version = body.version;
    root.dataset.version = body.version;
    templates.saved(edits);
    result.className = 'alert success';
    const words = body.created ? `Deployed version ${body.version}` : `Version ${body.version} is current again`;
    const files = body.templates_written.length ? ` with ${body.templates_written.join(', ')}` : '';
    const note = body.save_error ? ` (${body.save_error})` : body.saved_to ? ` and written to ${body.saved_to}` : '';
    result.replaceChildren(document.createTextNode(`${words}${files}${note}. `));
    const link = document.createElement('a');
    link.href = `/ui/journeys/${encodeURIComponent(root.dataset.journey)}`;
    link.textContent = 'See it live';
    result.appendChild(link);
    setStatus('unchanged', 'No changes');
    updateButtons();
    result.focus();
  }

  if (saveButton) saveButton.addEventListener('click', save);
  if (reviewButton) {
    setupReview({
      button: reviewButton,
      url: `/v1/journeys/${encodeURIComponent(root.dataset.journey)}/review`,
      text: () => view.state.doc.toString(),
    });
  }
  // Preview the text as it is in the editor (saved or not) on the real workflow.
  setupPreview({
    root: document,
    svg: () => host.querySelector('svg.journey-diagram'),
    journey: root.dataset.journey,
    sourceText: () => view.state.doc.toString(),
  });
  window.journeysEditor = view; // for tests and benchmarks: the CodeMirror view
}

if (globalThis.ELK) main();
else window.addEventListener('load', main, { once: true });
