// Lays a journey out with ELK (layered, orthogonal edges). Edge labels are layout objects, sized
// for their text and for the largest share they may show, so numbers change later without a new layout.
const SVG_NS = 'http://www.w3.org/2000/svg';

export const NODE = { width: 256, height: 98, tall: 116, padX: 16 };
export const END = { width: 96, height: 36 };
export const LABEL = { padX: 7, lineHeight: 15, padY: 4 };
export const SHARE_SAMPLE = '99,999 · 100%';

const TALL_KINDS = new Set(['send_email', 'send_webhook', 'award']);

export function nodeSize(node) {
  if (node.kind === 'end') return { ...END };
  return { width: NODE.width, height: TALL_KINDS.has(node.kind) ? NODE.tall : NODE.height };
}

// The compact mode (the customer page's small diagrams): icon and title only, no counts, no edge
// labels, left to right; the node marked (``here``) is taller, for its words.
export const COMPACT = { width: 184, height: 34, here: 58, end: { width: 68, height: 30 }, padX: 10 };

export function compactSize(node, here) {
  const height = node.id === here ? COMPACT.here : COMPACT.height;
  if (node.kind === 'end') return node.id === here ? { width: COMPACT.end.width + 44, height } : { ...COMPACT.end };
  return { width: COMPACT.width, height };
}

// Width of text as the page draws it (same font and classes), from an off-screen SVG.
export function textMeasurer(groupClass, textClass = '') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('width', '0');
  svg.setAttribute('height', '0');
  svg.classList.add('measure');
  svg.style.position = 'absolute';
  svg.style.left = '-10000px';
  const group = document.createElementNS(SVG_NS, 'g');
  group.setAttribute('class', groupClass);
  const text = document.createElementNS(SVG_NS, 'text');
  if (textClass) text.setAttribute('class', textClass);
  group.appendChild(text);
  svg.appendChild(group);
  document.body.appendChild(svg);
  const measure = (value) => {
    text.textContent = value;
    return text.getComputedTextLength();
  };
  measure.dispose = () => svg.remove();
  return measure;
}

export function labelLines(edge) {
  return edge.label ? [edge.label, SHARE_SAMPLE] : [SHARE_SAMPLE];
}

function labelSize(edge, measure) {
  const lines = labelLines(edge);
  const width = Math.max(...lines.map((line) => measure(line)));
  return {
    width: Math.ceil(width + 2 * LABEL.padX),
    height: lines.length * LABEL.lineHeight + 2 * LABEL.padY,
  };
}

// A label sits on its edge (the line runs through it), so it is plain which edge it belongs to.
const LABEL_OPTIONS = { 'elk.edgeLabels.inline': 'true' };

const OPTIONS = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.padding': '[top=28,left=28,bottom=28,right=28]',
  'elk.spacing.nodeNode': '36',
  'elk.layered.spacing.nodeNodeBetweenLayers': '24',
  'elk.spacing.edgeNode': '22',
  'elk.layered.spacing.edgeNodeBetweenLayers': '14',
  'elk.spacing.edgeEdge': '14',
  'elk.layered.spacing.edgeEdgeBetweenLayers': '12',
  'elk.spacing.edgeLabel': '6',
  'elk.spacing.labelLabel': '6',
  'elk.edgeLabels.placement': 'CENTER',
  'elk.layered.edgeLabels.sideSelection': 'SMART_DOWN',
  'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
  'elk.layered.cycleBreaking.strategy': 'MODEL_ORDER',
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.layered.crossingMinimization.semiInteractive': 'false',
  'elk.separateConnectedComponents': 'false',
};

const COMPACT_OPTIONS = {
  ...OPTIONS,
  'elk.direction': 'RIGHT',
  'elk.padding': '[top=12,left=12,bottom=12,right=12]',
  'elk.spacing.nodeNode': '12',
  'elk.layered.spacing.nodeNodeBetweenLayers': '26',
  'elk.spacing.edgeNode': '10',
  'elk.layered.spacing.edgeNodeBetweenLayers': '10',
  'elk.spacing.edgeEdge': '7',
  'elk.layered.spacing.edgeEdgeBetweenLayers': '7',
};

// The diagram (api/ui/graph.py) in, positions out: {width, height, nodes: {id: {x, y, width, height}},
// edges: {id: {points: [[x, y], ...], label: {x, y, width, height} | null}}}. With ``compact``, the
// small version without labels (``here``: the step drawn taller, for its marker).
export async function layout(diagram, { compact = false, here = null } = {}) {
  const ELK = globalThis.ELK;
  if (!ELK) throw new Error('the layout engine (elk.bundled.js) did not load');
  const measure = compact ? null : textMeasurer('edge-label');
  const graph = {
    id: 'journey',
    layoutOptions: compact ? COMPACT_OPTIONS : OPTIONS,
    children: diagram.nodes.map((node) => ({ id: node.id, ...(compact ? compactSize(node, here) : nodeSize(node)) })),
    edges: diagram.edges.map((edge) => ({
      id: edge.id,
      sources: [edge.source],
      targets: [edge.target],
      labels: edge.kind === 'entry' || compact ? [] : [{
        id: `${edge.id}:label`,
        text: labelLines(edge).join('\n'),
        layoutOptions: LABEL_OPTIONS,
        ...labelSize(edge, measure),
      }],
    })),
  };
  if (measure) measure.dispose();
  const laid = await new ELK().layout(graph);
  const nodes = {};
  for (const child of laid.children) {
    nodes[child.id] = { x: child.x, y: child.y, width: child.width, height: child.height };
  }
  const edges = {};
  for (const edge of laid.edges) {
    const points = [];
    for (const section of edge.sections || []) {
      points.push([section.startPoint.x, section.startPoint.y]);
      for (const bend of section.bendPoints || []) points.push([bend.x, bend.y]);
      points.push([section.endPoint.x, section.endPoint.y]);
    }
    const [label] = edge.labels || [];
    edges[edge.id] = {
      points,
      label: label ? { x: label.x, y: label.y, width: label.width, height: label.height } : null,
    };
  }
  return { width: Math.ceil(laid.width), height: Math.ceil(laid.height), nodes, edges };
}
