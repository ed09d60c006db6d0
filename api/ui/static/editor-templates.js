// The editor's template tabs: each email template the journey sends, file by file (subject, HTML,
// text, per locale) in its own CodeMirror, with a live preview rendered for an editable sample and
// its problems (from the same check as the YAML) shown in its tab. Edits stay in the page until
// Save, which deploys them with the journey.
import {
  EditorState, EditorView, keymap, lineNumbers, drawSelection, defaultKeymap, history, historyKeymap,
  highlightActiveLine,
} from './vendor/codemirror.js';
import { csrfToken } from './http.js';

const DELAY_MS = 250;

function partLabel(file) {
  const part = file.split('/').pop();
  const [stem, ...rest] = part.split('.');
  const words = { subject: 'Subject', body: rest[rest.length - 1] === 'html' ? 'HTML' : 'Text' }[stem] || part;
  return rest.length === 2 ? `${words} (${rest[0]})` : words;
}

export function setupTemplates({ tabs, sample, readOnly, previewUrl, nonce, onEdit }) {
  const bar = document.getElementById('file-tabs');
  const journeyPane = document.getElementById('pane-journey');
  const pane = document.getElementById('pane-template');
  const parts = document.getElementById('part-tabs');
  const host = document.getElementById('template-source');
  const error = document.getElementById('template-error');
  const sampleBox = document.getElementById('sample-json');
  const sampleError = document.getElementById('sample-error');
  const locale = document.getElementById('preview-locale');
  const status = document.getElementById('preview-status');
  const subject = document.getElementById('preview-subject');
  const textOut = document.getElementById('preview-text');
  const form = document.getElementById('preview-form');
  const payload = document.getElementById('preview-payload');
  const saved = Object.fromEntries(tabs.flatMap((tab) => Object.entries(tab.files)));
  const edited = {};
  const byName = Object.fromEntries(tabs.map((tab) => [tab.name, tab]));
  let current = null; // { tab, file }
  let problems = [];
  let previewError = null;
  let timer = null;
  let view = null;
  sampleBox.value = JSON.stringify(sample, null, 2);

  const textOf = (file) => (file in edited ? edited[file] : saved[file]);

  function select(button) {
    for (const other of bar.querySelectorAll('[role=tab]')) {
      const chosen = other === button;
      other.setAttribute('aria-selected', String(chosen));
      other.tabIndex = chosen ? 0 : -1;
    }
    const name = button.dataset.template;
    journeyPane.hidden = Boolean(name);
    pane.hidden = !name;
    if (!name) return;
    pane.setAttribute('aria-labelledby', button.id);
    const tab = byName[name];
    parts.replaceChildren();
    for (const file of Object.keys(tab.files)) {
      const part = document.createElement('button');
      part.type = 'button';
      part.className = 'part-tab';
      part.dataset.file = file;
      part.textContent = partLabel(file);
      part.setAttribute('aria-pressed', 'false');
      part.addEventListener('click', () => openFile(tab, file));
      parts.appendChild(part);
    }
    locale.replaceChildren(new Option('default', ''), ...tab.locales.map((l) => new Option(l, l)));
    document.getElementById('template-preview').hidden = name === '_shared';
    openFile(tab, Object.keys(tab.files).find((f) => f.endsWith('body.html')) || Object.keys(tab.files)[0]);
  }

  function openFile(tab, file) {
    current = { tab, file };
    const variant = file.split('/').pop().split('.');
    locale.value = variant.length === 3 && tab.locales.includes(variant[1]) ? variant[1] : '';
    for (const part of parts.querySelectorAll('.part-tab')) {
      part.setAttribute('aria-pressed', String(part.dataset.file === file));
    }
    if (view) view.destroy();
    view = new EditorView({
      parent: host,
      state: EditorState.create({
        doc: textOf(file),
        extensions: [
          lineNumbers(), history(), drawSelection(), highlightActiveLine(), EditorView.lineWrapping,
          EditorView.cspNonce.of(nonce),
          EditorView.contentAttributes.of({ 'aria-label': `Template file ${file}`, tabindex: '0' }),
          keymap.of([...defaultKeymap, ...historyKeymap]),
          EditorState.readOnly.of(readOnly),
          EditorView.updateListener.of((update) => {
            if (!update.docChanged) return;
            const text = update.state.doc.toString();
            if (text === saved[file]) delete edited[file];
            else edited[file] = text;
            onEdit();
            schedule();
          }),
        ],
      }),
    });
    showProblems(problems);
    schedule(0);
  }

  function schedule(delay = DELAY_MS) {
    clearTimeout(timer);
    timer = setTimeout(preview, delay);
  }

  function sampleNow() {
    try {
      const value = JSON.parse(sampleBox.value || '{}');
      sampleError.hidden = true;
      return value;
    } catch (failure) {
      sampleError.hidden = false;
      sampleError.textContent = `The sample is not valid JSON: ${failure.message}`;
      return null;
    }
  }

  async function preview() {
    if (!current || current.tab.name === '_shared') return;
    const value = sampleNow();
    if (value === null) return;
    const ask = { template: current.tab.name, locale: locale.value || null, sample: value, templates: { ...edited } };
    status.textContent = 'Rendering…';
    const response = await fetch(previewUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrfToken() },
      body: JSON.stringify(ask),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      status.textContent = `Could not render: ${typeof answer.detail === 'string' ? answer.detail : response.statusText}`;
      return;
    }
    subject.textContent = answer.subject || '';
    textOut.textContent = answer.text || '';
    status.textContent = answer.error ? '' : 'Rendered';
    pane.dataset.previewError = answer.error ? 'true' : 'false';
    previewError = answer.error || null;
    renderError();
    payload.value = JSON.stringify(ask);
    form.action = `${previewUrl}.html`;
    form.submit();
    pane.dataset.rendered = String(Date.now());
  }

  function renderError() {
    const mine = problems.filter((p) => current && p.template === current.tab.name).map((p) => p.message);
    const all = [...new Set([...(previewError ? [previewError] : []), ...mine])];
    error.hidden = all.length === 0;
    error.textContent = all.join(' · ');
  }

  function showProblems(found) {
    problems = found;
    for (const button of bar.querySelectorAll('[data-template]')) {
      const count = found.filter((p) => p.template === button.dataset.template).length;
      const badge = button.querySelector('[data-tab-problems]');
      badge.hidden = count === 0;
      badge.textContent = count ? ` ${count}` : '';
      button.setAttribute('aria-description', count ? `${count} problem${count > 1 ? 's' : ''}` : '');
    }
    if (current) renderError();
  }

  bar.addEventListener('click', (event) => {
    const button = event.target.closest('[role=tab]');
    if (button) select(button);
  });
  bar.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const all = [...bar.querySelectorAll('[role=tab]')];
    const at = all.indexOf(document.activeElement);
    const next = all[(at + (event.key === 'ArrowRight' ? 1 : all.length - 1)) % all.length];
    next.focus();
    select(next);
  });
  sampleBox.addEventListener('input', () => schedule());
  locale.addEventListener('change', () => schedule(0));

  return {
    edits: () => ({ ...edited }),
    showProblems,
    saved: (files) => {
      Object.assign(saved, files);
      for (const file of Object.keys(files)) delete edited[file];
    },
    open: (name) => select(bar.querySelector(`[data-template="${CSS.escape(name)}"]`)),
  };
}
