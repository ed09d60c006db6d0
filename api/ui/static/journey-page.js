// The journey page: lay the plan out (ELK), draw it, keep its numbers live, open step panels.
import { draw } from './draw.js';
import { layout } from './layout.js';
import { apply, startLive } from './live.js';
import { setupPanel } from './panel.js';
import { setupPreview } from './preview.js';
import { setupTooltips } from './tooltip.js';
import { setupZoom } from './zoom.js';

function data(id) {
  return JSON.parse(document.getElementById(id).textContent);
}

async function main() {
  const host = document.getElementById('diagram');
  const diagram = data('diagram-data');
  const counts = data('counts-data');
  try {
    const laid = await layout(diagram);
    const svg = draw(host, diagram, laid);
    host.setAttribute('data-drawn', 'true');
    apply(document, diagram, counts);
    setupTooltips(host);
    setupZoom(document.getElementById('zoom'), host, svg);
    const panel = setupPanel({
      root: document,
      svg,
      panelUrl: host.dataset.panelUrl,
      version: host.dataset.version,
    });
    const step = new URLSearchParams(location.search).get('step');
    const node = step && svg.querySelector(`[data-step="${CSS.escape(step)}"]`);
    if (node) panel.open(node);
  } catch (failure) {
    const message = document.createElement('p');
    message.className = 'alert';
    message.setAttribute('role', 'alert');
    message.textContent = `The diagram could not be drawn (${failure.message}). The list of steps below has the same numbers.`;
    host.replaceChildren(message);
    host.setAttribute('data-drawn', 'failed');
  }
  setupPreview({
    root: document,
    svg: () => host.querySelector('svg.journey-diagram'),
    journey: diagram.journey,
    version: host.dataset.version,
  });
  startLive({
    root: document,
    diagram,
    url: host.dataset.countsUrl,
    seconds: Number(host.dataset.refreshSeconds) || 3,
    status: document.getElementById('live-status'),
    error: document.getElementById('live-error'),
  });
}

if (globalThis.ELK) main();
else window.addEventListener('load', main, { once: true });
