// The customer page: each run's small diagram (its version's plan, laid out by ELK in the compact
// mode), with the step the customer is at (or left from) marked, scrolled into view.
import { draw } from './draw.js';
import { layout } from './layout.js';

function centre(host, svg) {
  const here = svg.querySelector('[data-here]');
  if (!here) return;
  const box = here.getBoundingClientRect();
  const frame = host.getBoundingClientRect();
  host.scrollLeft += box.left - frame.left - (frame.width - box.width) / 2;
}

async function drawRun(host, diagrams) {
  const diagram = diagrams[host.dataset.diagram];
  const here = host.dataset.here || null;
  try {
    const laid = await layout(diagram, { compact: true, here });
    const svg = draw(host, diagram, laid, {
      compact: true,
      here,
      hereLabel: host.dataset.hereLabel,
      visited: JSON.parse(host.dataset.visited || '[]'),
      idPrefix: `${host.id}-`,
      label: host.dataset.label,
    });
    host.setAttribute('data-drawn', 'true');
    centre(host, svg);
  } catch (failure) {
    const message = document.createElement('p');
    message.className = 'alert';
    message.textContent = `The diagram could not be drawn (${failure.message}); the steps are listed below it.`;
    host.replaceChildren(message);
    host.setAttribute('data-drawn', 'failed');
  }
}

async function main() {
  const source = document.getElementById('diagrams-data');
  if (!source) return;
  const diagrams = JSON.parse(source.textContent);
  for (const host of document.querySelectorAll('[data-run-diagram]')) await drawRun(host, diagrams);
}

if (globalThis.ELK) main();
else window.addEventListener('load', main, { once: true });
