// Editing on the canvas: select a step (click, or Tab to it and Enter) to change its fields, delete
// it or point its ways out elsewhere; select an edge's label to insert a step there or point it at
// another step; or drag an edge's label onto another step. Each edit is one call to
// POST /v1/journeys/edit (engine.edits: a round-trip rewrite that keeps comments and layout); its
// new text replaces only what changed in the editor, and is checked and drawn like typing.
import { csrfToken } from './http.js';

// The fields a step of each kind offers here, as the YAML writes them (engine/schema.py).
const FORMS = {
  wait: [['wait', 'Wait for', 'text', '2d, 12h, 30m']],
  wait_for: [['wait_for.event', 'Event', 'text', 'purchase_completed'], ['wait_for.timeout', 'Timeout', 'text', '7d']],
  send_email: [['send.email', 'Email template', 'template', '']],
  award: [['award.points', 'Points', 'number', '50'], ['award.reason', 'Reason', 'text', 'Profile completed']],
  set_stage: [['set_stage', 'Stage', 'stage', '']],
  exit: [['exit', 'Reason it is recorded with', 'text', 'converted']],
  branch: [['branch.cases.0.when', 'Condition of the first case', 'text', 'customer.points >= 500']],
};
// What the palette inserts: the language's kind, the form above, and its words.
const PALETTE = [
  ['wait', 'wait', 'Wait'],
  ['send', 'send_email', 'Send an email'],
  ['wait_for', 'wait_for', 'Wait for an event'],
  ['award', 'award', 'Award points'],
  ['set_stage', 'set_stage', 'Set the stage'],
  ['branch', 'branch', 'Branch on a condition'],
  ['exit', 'exit', 'Exit'],
];
const DRAG_START_PX = 6;

function element(tag, attributes = {}, text = '') {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

// {"award.points": "50"} -> {award: {points: 50}}; blanks are left out (nothing changes there).
function nest(values, numeric) {
  const out = {};
  for (const [path, raw] of Object.entries(values)) {
    if (raw === '') continue;
    const keys = path.split('.');
    let at = out;
    keys.slice(0, -1).forEach((key, index) => {
      const isIndex = /^\d+$/.test(keys[index + 1]);
      at[key] = at[key] || (isIndex ? [] : {});
      at = at[key];
    });
    at[keys[keys.length - 1]] = numeric.has(path) ? Number(raw) : raw;
  }
  return out;
}

// The smallest change from ``before`` to ``after``: their common start and end are kept.
export function smallestChange(before, after) {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start += 1;
  let end = 0;
  while (end < before.length - start && end < after.length - start
    && before[before.length - 1 - end] === after[after.length - 1 - end]) end += 1;
  return { from: start, to: before.length - end, insert: after.slice(start, after.length - end) };
}

export function setupCanvas({ host, panel, editUrl, vocabulary, text, replace, enabled }) {
  const body = panel.querySelector('[data-canvas-body]');
  const title = panel.querySelector('[data-canvas-title]');
  let diagram = null;
  let opener = null;

  const stepIds = () => diagram.nodes.filter((n) => !n.id.startsWith('__')).map((n) => n.id);

  function close() {
    panel.hidden = true;
    host.querySelector('.selected')?.classList.remove('selected');
    if (opener && document.contains(opener)) opener.focus();
  }

  // The panel docks on the frame's right unless what it is about lies in the right half: then on
  // the left, so the step or way being changed stays in sight beside it.
  function dock(from) {
    const frame = panel.parentElement.getBoundingClientRect();
    const about = from?.getBoundingClientRect?.();
    const onTheRight = about && about.left + about.width / 2 > frame.left + frame.width / 2;
    panel.classList.toggle('dock-left', Boolean(onTheRight));
  }

  function open(what, from) {
    opener = from;
    dock(from);
    panel.hidden = false;
    title.textContent = what;
    body.replaceChildren();
    title.focus();
  }

  function note(words, kind = 'alert') {
    const line = element('p', { class: kind, role: 'alert', 'data-canvas-note': '' }, words);
    body.querySelector('[data-canvas-note]')?.remove();
    body.prepend(line);
  }

  async function edit(operation) {
    const response = await fetch(editUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrfToken() },
      body: JSON.stringify({ source: text(), operation }),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const problems = answer.errors || [];
      note(problems.length ? problems.map((p) => p.message).join(' · ') : (answer.detail || response.statusText));
      return false;
    }
    replace(answer.source);
    close();
    return true;
  }

  function fieldInput(path, label, type, hint) {
    const id = `canvas-${path.replace(/\W/g, '-')}`;
    const row = element('div', { class: 'form-row' });
    row.appendChild(element('label', { for: id }, label));
    let input;
    if (type === 'template' || type === 'stage') {
      input = element('select', { id, 'data-path': path });
      input.appendChild(new Option('—', ''));
      for (const value of type === 'template' ? vocabulary.templates : vocabulary.stages) input.appendChild(new Option(value, value));
    } else {
      input = element('input', { id, type: type === 'number' ? 'number' : 'text', 'data-path': path, placeholder: hint });
      if (type === 'number') input.setAttribute('min', '0');
    }
    row.appendChild(input);
    return row;
  }

  function values(form) {
    const found = {};
    const numeric = new Set();
    for (const input of form.querySelectorAll('[data-path]')) {
      found[input.dataset.path] = input.value.trim();
      if (input.type === 'number') numeric.add(input.dataset.path);
    }
    return nest(found, numeric);
  }

  function targetSelect(id, label, current) {
    const row = element('div', { class: 'form-row' });
    row.appendChild(element('label', { for: id }, label));
    const select = element('select', { id });
    for (const step of [...stepIds(), '__end']) {
      const words = step === '__end' ? 'the end' : step;
      const option = new Option(step === current ? `${words} (now)` : words, step);
      option.selected = step === current;
      select.appendChild(option);
    }
    row.appendChild(select);
    return [row, select];
  }

  // "Point it there" only once another step than the way's own target is picked: pointing a way
  // where it already goes would be an edit that changes nothing.
  function pointButton(select, current) {
    const button = element('button', { type: 'submit', class: 'button secondary' }, 'Point it there');
    const sync = () => { button.disabled = select.value === current; };
    select.addEventListener('change', sync);
    sync();
    return button;
  }

  function openStep(group) {
    const id = group.dataset.step;
    const node = diagram.nodes.find((n) => n.id === id);
    group.classList.add('selected');
    open(`Step ${id}`, group);
    body.appendChild(element('p', { class: 'muted' }, `${node.kind_label}: ${node.summary}`));
    const fields = FORMS[node.kind] || [];
    if (fields.length) {
      const form = element('form', { class: 'canvas-form', 'data-form': 'fields' });
      form.appendChild(element('p', { class: 'legend' }, 'Leave a field blank to keep it as it is.'));
      for (const field of fields) form.appendChild(fieldInput(...field));
      form.appendChild(element('button', { type: 'submit', class: 'button' }, 'Change the step'));
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const changed = values(form);
        if (Object.keys(changed).length) edit({ op: 'set_fields', step: id, fields: changed });
      });
      body.appendChild(form);
    }
    const ways = diagram.edges.filter((e) => e.source === id && e.kind !== 'control');
    ways.forEach((way, index) => {
      const form = element('form', { class: 'canvas-form', 'data-form': 'retarget' });
      const [row, select] = targetSelect(`canvas-way-${index}`, `${way.label || 'Next'}: goes to`, way.target);
      form.appendChild(row);
      form.appendChild(pointButton(select, way.target));
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        edit({ op: 'retarget_edge', edge: way.id, target: select.value });
      });
      body.appendChild(form);
    });
    const remove = element('form', { class: 'canvas-form danger', 'data-form': 'delete' });
    const [row, select] = targetSelect('canvas-reconnect', 'Customers who would come here then go to (for a step with several ways out)', '');
    select.insertBefore(new Option('where it went', ''), select.firstChild);
    select.value = '';
    remove.appendChild(row);
    remove.appendChild(element('button', { type: 'submit', class: 'button danger' }, `Delete ${id}`));
    remove.addEventListener('submit', (event) => {
      event.preventDefault();
      edit({ op: 'delete_step', step: id, ...(select.value ? { reconnect_to: select.value } : {}) });
    });
    body.appendChild(remove);
  }

  function openEdge(label) {
    const id = label.dataset.edge;
    const way = diagram.edges.find((e) => e.id === id);
    open(`From ${way.source} to ${way.target === '__end' ? 'the end' : way.target}`, label);
    const insert = element('form', { class: 'canvas-form', 'data-form': 'insert' });
    insert.appendChild(element('h3', {}, 'Insert a step here'));
    const kindRow = element('div', { class: 'form-row' });
    kindRow.appendChild(element('label', { for: 'canvas-kind' }, 'Kind'));
    const kind = element('select', { id: 'canvas-kind' });
    for (const [value, form, words] of PALETTE) kind.appendChild(new Option(words, `${value}|${form}`));
    kindRow.appendChild(kind);
    insert.appendChild(kindRow);
    const fields = element('div', { 'data-fields': '' });
    const showFields = () => {
      fields.replaceChildren(...(FORMS[kind.value.split('|')[1]] || []).map((f) => fieldInput(...f)));
    };
    kind.addEventListener('change', showFields);
    showFields();
    insert.appendChild(fields);
    insert.appendChild(element('button', { type: 'submit', class: 'button' }, 'Insert'));
    insert.addEventListener('submit', (event) => {
      event.preventDefault();
      edit({ op: 'insert_step', edge: id, kind: kind.value.split('|')[0], fields: values(insert) });
    });
    body.appendChild(insert);
    if (way.kind !== 'control' && way.source !== '__entry') {
      const point = element('form', { class: 'canvas-form', 'data-form': 'retarget' });
      const [row, select] = targetSelect('canvas-target', 'Or point this way at', way.target);
      point.appendChild(row);
      point.appendChild(pointButton(select, way.target));
      point.addEventListener('submit', (event) => {
        event.preventDefault();
        edit({ op: 'retarget_edge', edge: id, target: select.value });
      });
      body.appendChild(point);
    }
  }

  // Dragging an edge's label onto a step points the edge there.
  let drag = null;
  host.addEventListener('pointerdown', (event) => {
    const label = event.target.closest('.edge-label[data-edge]');
    if (!enabled || !label || event.button !== 0) return;
    drag = { label, x: event.clientX, y: event.clientY, line: null };
  });
  host.addEventListener('pointermove', (event) => {
    if (!drag) return;
    if (!drag.line && Math.hypot(event.clientX - drag.x, event.clientY - drag.y) < DRAG_START_PX) return;
    const svg = host.querySelector('svg.journey-diagram');
    const point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    const at = point.matrixTransform(svg.getScreenCTM().inverse());
    if (!drag.line) {
      const box = drag.label.getBBox();
      const [, x, y] = drag.label.getAttribute('transform').match(/translate\(([-\d.]+),([-\d.]+)\)/);
      drag.line = document.createElementNS('http://www.w3.org/2000/svg', 'line');
      drag.line.setAttribute('class', 'drag-line');
      drag.line.setAttribute('x1', String(Number(x) + box.width / 2));
      drag.line.setAttribute('y1', String(Number(y) + box.height / 2));
      svg.appendChild(drag.line);
      host.classList.add('dragging');
    }
    drag.line.setAttribute('x2', String(at.x));
    drag.line.setAttribute('y2', String(at.y));
    for (const node of host.querySelectorAll('.drop-target')) node.classList.remove('drop-target');
    document.elementFromPoint(event.clientX, event.clientY)?.closest('[data-step]')?.classList.add('drop-target');
  });
  host.addEventListener('pointerup', (event) => {
    if (!drag) return;
    const { label, line } = drag;
    drag = null;
    if (!line) return; // a click: handled below
    line.remove();
    host.classList.remove('dragging');
    for (const node of host.querySelectorAll('.drop-target')) node.classList.remove('drop-target');
    const target = document.elementFromPoint(event.clientX, event.clientY)?.closest('[data-step]');
    host.dataset.dragged = 'true';
    if (target && target.dataset.step !== label.dataset.target) {
      edit({ op: 'retarget_edge', edge: label.dataset.edge, target: target.dataset.step });
    }
  });

  function activate(event) {
    if (!enabled || !diagram) return;
    if (host.dataset.dragged === 'true') {
      delete host.dataset.dragged;
      return;
    }
    const label = event.target.closest('.edge-label[data-edge]');
    if (label) {
      openEdge(label);
      return;
    }
    const node = event.target.closest('[data-step]');
    if (node) openStep(node);
  }
  host.addEventListener('click', activate);
  host.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      if (event.target.closest('.edge-label[data-edge], [data-step]')) {
        event.preventDefault();
        activate(event);
      }
    }
  });
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') close();
  });
  panel.querySelector('[data-canvas-close]').addEventListener('click', close);

  return {
    // After each drawing: what is drawn, and every edge label made reachable by the keyboard.
    attach(drawn) {
      diagram = drawn;
      if (!enabled) return;
      for (const label of host.querySelectorAll('.edge-label[data-edge]')) {
        label.setAttribute('tabindex', '0');
        label.setAttribute('role', 'button');
        const to = label.dataset.target === '__end' ? 'the end' : label.dataset.target;
        // The name starts with the words drawn (WCAG 2.5.3), then says what the button does.
        const drawn = [...label.querySelectorAll('text')].map((t) => t.textContent).join(' ');
        label.setAttribute('aria-label', `${drawn}: the way from ${label.dataset.source} to ${to}; insert a step here or point it elsewhere`);
      }
    },
  };
}
