// Draws a laid-out journey in SVG: one focusable group per node (shape, icon, kind, title, summary,
// counts), edges with arrowheads, and edge labels (text and share). Numbers are filled in by live.js.
// The compact mode (``draw(..., {compact: true})``) draws the customer page's small diagrams: one
// picture, icon and title per node, the path a customer took, and where they are marked.
import { ICONS } from './icons.js';
import { COMPACT, LABEL, NODE, textMeasurer } from './layout.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const SENDS = new Set(['send_email', 'send_webhook']);
const PILLS = new Set(['wait', 'wait_for', 'trigger']);
const DECISIONS = new Set(['branch', 'split']);

function el(name, attributes = {}, parent = null) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (parent) parent.appendChild(node);
  return node;
}

function text(parent, attributes, value) {
  const node = el('text', attributes, parent);
  node.textContent = value;
  // SVG draws no text between its <text> elements, but readers (and axe) join them with it.
  parent.appendChild(document.createTextNode(' '));
  return node;
}

// Shapes tell kinds apart without colour: actions are rectangles, waits and the entry pills,
// decisions hexagons, exits octagons, the end a small rounded box.
function shape(kind, width, height, className) {
  if (DECISIONS.has(kind)) {
    const d = 14;
    const points = [[d, 0], [width - d, 0], [width, height / 2], [width - d, height], [d, height], [0, height / 2]];
    return el('polygon', { class: className, points: points.map((p) => p.join(',')).join(' ') });
  }
  if (kind === 'exit') {
    const c = 12;
    const points = [[c, 0], [width - c, 0], [width, c], [width, height - c], [width - c, height], [c, height], [0, height - c], [0, c]];
    return el('polygon', { class: className, points: points.map((p) => p.join(',')).join(' ') });
  }
  const radius = PILLS.has(kind) ? 20 : kind === 'end' ? height / 2 : 8;
  return el('rect', { class: className, width, height, rx: radius });
}

function fit(measure, value, room) {
  if (measure(value) <= room) return value;
  let cut = value;
  while (cut.length > 1 && measure(`${cut}…`) > room) cut = cut.slice(0, -1);
  return `${cut.trimEnd()}…`;
}

function countsLine(group, y, parts, id) {
  // parts: [[countKey, word], ...] -> "<n> word · <n> word"
  const line = text(group, { class: 'counts', x: NODE.padX, y, id }, '');
  parts.forEach(([key, word], index) => {
    if (index) el('tspan', {}, line).textContent = ' · ';
    const number = el('tspan', { class: key === 'failed' ? 'n n-bad' : 'n', 'data-count': key }, line);
    number.textContent = '0';
    el('tspan', {}, line).textContent = ` ${word}`;
  });
  return line;
}

// Sends failing now that will be tried again: a badge in the top row, shown while there are any
// (live.js), its words in the node's name either way.
function retryingBadge(group, right, id) {
  const badge = el('g', { class: 'retrying-badge', 'data-retrying': '', visibility: 'hidden' }, group);
  const rect = el('rect', { y: 10, height: 20, rx: 10 }, badge);
  const label = text(badge, { x: right - 8, y: 24, 'text-anchor': 'end', id }, '');
  el('tspan', { 'data-count': 'retrying' }, label).textContent = '0';
  el('tspan', {}, label).textContent = ' retrying';
  rect.setAttribute('data-right', String(right));
  return badge;
}

function drawNode(layer, node, box, measure, index) {
  const isEntry = node.kind === 'trigger';
  const isEnd = node.kind === 'end';
  const group = el('g', {
    class: `node k-${node.kind}`,
    transform: `translate(${box.x},${box.y})`,
    'data-kind': node.kind,
  }, layer);
  if (isEntry) group.setAttribute('data-entry', '');
  else if (isEnd) group.setAttribute('data-end', '');
  else {
    group.setAttribute('data-step', node.id);
    group.setAttribute('tabindex', '0');
    group.setAttribute('role', 'button');
    group.setAttribute('aria-haspopup', 'dialog');
    group.setAttribute('aria-controls', 'panel');
    group.setAttribute('aria-expanded', 'false');
  }
  // The name read out is the text drawn, in order (ids below); the whole text, never shortened, is
  // the description, and the tooltip (on hover and focus) where the drawing had to shorten it.
  const whole = `${node.kind_label} ${node.title}${node.summary ? `: ${node.summary}` : ''}`;
  const id = (part) => `node-${index}-${part}`;
  el('desc', { id: id('whole') }, group).textContent = whole;
  group.appendChild(shape(node.kind, box.width, box.height, 'shape'));
  const ring = shape(node.kind, box.width + 8, box.height + 8, 'focus-ring');
  ring.setAttribute('transform', 'translate(-4,-4)');
  group.appendChild(ring);
  if (isEnd) {
    const icon = el('g', { class: 'icon', transform: 'translate(14,10)', 'aria-hidden': 'true' }, group);
    icon.innerHTML = ICONS.end;
    text(group, { class: 'title', x: 38, y: 23 }, 'End');
    return group;
  }
  // Row 1: icon and the kind in words; row 2: the title; row 3: what the step does; then the counts.
  const x = NODE.padX;
  el('rect', { class: 'band', x: x - 3, y: 9, width: 22, height: 22, rx: 6 }, group);
  const icon = el('g', { class: 'icon', transform: `translate(${x},12)`, 'aria-hidden': 'true' }, group);
  icon.innerHTML = ICONS[node.kind] || '';
  const room = box.width - 2 * x;
  text(group, { class: 'kind', x: x + 28, y: 24.5, id: id('kind'), 'data-kind-label': '' }, node.kind_label);
  const title = fit(measure.title, node.title, room);
  const summary = fit(measure.summary, node.summary, room);
  text(group, { class: 'title', x, y: 48, id: id('title'), 'data-title': '' }, title);
  text(group, { class: 'summary', x, y: 65, id: id('summary'), 'data-summary': '' }, summary);
  if (title !== node.title || summary !== node.summary) {
    group.setAttribute('data-full-label', whole);
    if (isEntry) group.setAttribute('tabindex', '0'); // so the keyboard reaches the whole audience too
  }
  const parts = ['kind', 'title', 'summary', 'counts'];
  el('line', { class: 'divider', x1: x, x2: box.width - x, y1: 74, y2: 74 }, group);
  if (isEntry) {
    countsLine(group, 91, [['entered', 'entered']], id('counts'));
    return group;
  }
  countsLine(group, 91, [['waiting', 'waiting'], ['entered', 'entered'], ['completed', 'done']], id('counts'));
  if (SENDS.has(node.kind)) {
    countsLine(group, 109, [['sent', 'sent'], ['skipped', 'skipped'], ['failed', 'failed']], id('more'));
    retryingBadge(group, box.width - x, id('retrying'));
    parts.push('more', 'retrying');
  }
  if (node.kind === 'award') {
    countsLine(group, 109, [['points', 'points given']], id('more'));
    parts.push('more');
  }
  group.setAttribute('aria-labelledby', parts.map(id).join(' '));
  group.setAttribute('aria-describedby', id('whole'));
  return group;
}

// An orthogonal route with rounded corners.
function routePath(points, radius = 6) {
  if (!points.length) return '';
  let d = `M${points[0][0]},${points[0][1]}`;
  for (let i = 1; i < points.length - 1; i += 1) {
    const [px, py] = points[i - 1];
    const [x, y] = points[i];
    const [nx, ny] = points[i + 1];
    const r = Math.min(radius, Math.hypot(x - px, y - py) / 2, Math.hypot(nx - x, ny - y) / 2);
    const inX = x - Math.sign(x - px) * r;
    const inY = y - Math.sign(y - py) * r;
    const outX = x + Math.sign(nx - x) * r;
    const outY = y + Math.sign(ny - y) * r;
    d += ` L${inX},${inY} Q${x},${y} ${outX},${outY}`;
  }
  const [lx, ly] = points[points.length - 1];
  return `${d} L${lx},${ly}`;
}

function drawEdgeLabel(layer, edge, box) {
  const group = el('g', {
    class: `edge-label e-${edge.kind}${edge.label ? '' : ' plain'}`,
    transform: `translate(${box.x},${box.y})`,
    'data-edge': edge.id,
    'data-edge-kind': edge.kind,
    'data-source': edge.source,
    'data-target': edge.target,
  }, layer);
  el('rect', { width: box.width, height: box.height, rx: 5 }, group);
  let y = LABEL.padY + LABEL.lineHeight - 3.5;
  if (edge.label) {
    group.setAttribute('tabindex', '0');
    group.setAttribute('role', 'note');
    group.setAttribute('data-full-label', edge.full_label);
    text(group, { class: "label-text", x: LABEL.padX, y, "data-label": "" }, edge.label);
    y += LABEL.lineHeight;
  }
  const share = text(group, { class: 'share', x: LABEL.padX, y }, '');
  const count = el('tspan', { class: 'n', 'data-share-count': '' }, share);
  count.textContent = '0';
  el('tspan', {}, share).textContent = ' · ';
  el('tspan', { 'data-share-percent': '' }, share).textContent = '0%';
  return group;
}

// The marker of the node a customer is at (or left from): a pin, drawn with its words.
const PIN = '<path class="solid" d="M8 1.2a4.9 4.9 0 0 0-4.9 4.9c0 3.6 4.9 8.7 4.9 8.7s4.9-5.1 4.9-8.7A4.9 4.9 0 0 0 8 1.2z"/><circle class="hole" cx="8" cy="6.1" r="1.9"/>';

function drawCompactNode(layer, node, box, measure, mark) {
  const isHere = node.id === mark.here;
  const classes = ['node', 'compact', `k-${node.kind}`];
  if (mark.visited.has(node.id)) classes.push('visited');
  if (isHere) classes.push('here');
  const group = el('g', { class: classes.join(' '), transform: `translate(${box.x},${box.y})`, 'data-kind': node.kind }, layer);
  if (node.kind === 'trigger') group.setAttribute('data-entry', '');
  else if (node.kind === 'end') group.setAttribute('data-end', '');
  else group.setAttribute('data-step', node.id);
  if (isHere) group.setAttribute('data-here', mark.label);
  const whole = `${node.kind_label} ${node.title}${node.summary ? `: ${node.summary}` : ''}`;
  el('title', {}, group).textContent = isHere ? `${whole} (${mark.label})` : whole;
  if (isHere) {
    const ring = shape(node.kind, box.width + 10, box.height + 10, 'here-ring');
    ring.setAttribute('transform', 'translate(-5,-5)');
    group.appendChild(ring);
  }
  group.appendChild(shape(node.kind, box.width, box.height, 'shape'));
  const x = COMPACT.padX;
  const row = Math.min(box.height, COMPACT.height); // the first row: icon and title
  const icon = el('g', { class: 'icon', transform: `translate(${x},${(row - 16) / 2})`, 'aria-hidden': 'true' }, group);
  icon.innerHTML = ICONS[node.kind] || '';
  const title = node.kind === 'end' ? 'End' : fit(measure, node.title, box.width - x - 22 - 8);
  text(group, { class: 'title', x: x + 22, y: row / 2 + 4.5, 'data-title': '' }, title);
  if (isHere) {
    el('line', { class: 'divider', x1: 6, x2: box.width - 6, y1: row, y2: row }, group);
    const pin = el('g', { class: 'pin', transform: `translate(${x},${row + 3})`, 'aria-hidden': 'true' }, group);
    pin.innerHTML = PIN;
    text(group, { class: 'here-text', x: x + 22, y: row + 16, 'data-here-text': '' }, mark.label);
  }
  return group;
}

// The compact mode: a picture (role img, named by ``label``), nothing focusable inside; ids start
// with ``idPrefix`` so several can share a page.
function drawCompact(host, diagram, laid, { here = null, hereLabel = 'here now', visited = [], idPrefix = 'mini-', label = '' }) {
  const measure = textMeasurer('node compact', 'title');
  const svg = el('svg', {
    width: laid.width,
    height: laid.height,
    viewBox: `0 0 ${laid.width} ${laid.height}`,
    role: 'img',
    'aria-label': label || `Diagram of journey ${diagram.journey}, version ${diagram.version}`,
    class: 'mini-diagram',
  });
  const arrow = `${idPrefix}arrow`;
  const marker = el('marker', {
    id: arrow, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse',
  }, el('defs', {}, svg));
  el('path', { class: 'arrow', d: 'M0,0 L10,5 L0,10 z' }, marker);
  const entry = diagram.nodes.find((node) => node.kind === 'trigger');
  const seen = new Set([...(entry ? [entry.id] : []), ...visited]);
  const reached = new Set([...seen, ...(here ? [here] : [])]);
  const mark = { here, label: hereLabel, visited: reached };
  const edgeLayer = el('g', { class: 'edges' }, svg);
  for (const edge of diagram.edges) {
    const taken = seen.has(edge.source) && reached.has(edge.target);
    const group = el('g', { class: `edge e-${edge.kind}${taken ? ' taken' : ''}`, 'data-edge-line': edge.id }, edgeLayer);
    el('path', { class: 'line', d: routePath(laid.edges[edge.id].points), 'marker-end': `url(#${arrow})` }, group);
  }
  const nodeLayer = el('g', { class: 'things' }, svg);
  for (const node of diagram.nodes) drawCompactNode(nodeLayer, node, laid.nodes[node.id], measure, mark);
  measure.dispose();
  host.replaceChildren(svg);
  return svg;
}

// Draws into ``host`` and returns the SVG element (``options.compact``: the small picture).
export function draw(host, diagram, laid, options = {}) {
  if (options.compact) return drawCompact(host, diagram, laid, options);
  const measure = {
    title: textMeasurer('node', 'title'),
    summary: textMeasurer('node', 'summary'),
  };
  const svg = el('svg', {
    width: laid.width,
    height: laid.height,
    viewBox: `0 0 ${laid.width} ${laid.height}`,
    role: 'group',
    'aria-label': `Diagram of journey ${diagram.journey}, version ${diagram.version}. The same steps follow as a list.`,
    class: 'journey-diagram',
  });
  const defs = el('defs', {}, svg);
  const marker = el('marker', {
    id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse',
  }, defs);
  el('path', { class: 'arrow', d: 'M0,0 L10,5 L0,10 z' }, marker);

  const edgeLayer = el('g', { class: 'edges', 'aria-hidden': 'true' }, svg);
  for (const edge of diagram.edges) {
    const route = laid.edges[edge.id];
    const group = el('g', { class: `edge e-${edge.kind}`, 'data-edge-line': edge.id }, edgeLayer);
    el('path', { class: 'line', d: routePath(route.points), 'marker-end': 'url(#arrow)' }, group);
  }
  // Nodes in plan order, each followed by the labels of its ways out: the Tab order reads the journey.
  const things = el('g', { class: 'things' }, svg);
  const outgoing = new Map();
  for (const edge of diagram.edges) {
    if (!outgoing.has(edge.source)) outgoing.set(edge.source, []);
    outgoing.get(edge.source).push(edge);
  }
  diagram.nodes.forEach((node, index) => {
    drawNode(things, node, laid.nodes[node.id], measure, index);
    for (const edge of outgoing.get(node.id) || []) {
      const box = laid.edges[edge.id].label;
      if (box) drawEdgeLabel(things, edge, box);
    }
  });
  Object.values(measure).forEach((m) => m.dispose());
  host.replaceChildren(svg);
  return svg;
}
