// Live numbers: one request for every count of the journey shown, every few seconds, written into
// the nodes, edge labels, key figures, the step list and the open panel. Nothing is laid out again.
import { SignedOut, getJson } from './http.js';

const number = new Intl.NumberFormat('en');
const percent = (share) => `${(share * 100).toFixed(share >= 0.1 || share === 0 ? 0 : 1)}%`;

function fill(scope, numbers) {
  for (const slot of scope.querySelectorAll('[data-count]')) {
    const key = slot.getAttribute('data-count');
    if (key in numbers) slot.textContent = number.format(numbers[key]);
  }
}

// The retrying badge of a send: sized to its text, drawn only while sends are being retried.
function showBadge(badge, retrying) {
  badge.setAttribute('visibility', retrying > 0 ? 'visible' : 'hidden');
  if (retrying <= 0) return;
  const label = badge.querySelector('text');
  const rect = badge.querySelector('rect');
  const width = label.getComputedTextLength() + 16;
  rect.setAttribute('x', String(Number(rect.getAttribute('data-right')) - width));
  rect.setAttribute('width', String(width));
}

export function apply(root, diagram, counts) {
  for (const group of root.querySelectorAll('.journey-diagram [data-step]')) {
    const id = group.getAttribute('data-step');
    const numbers = counts.nodes[id];
    if (!numbers) continue;
    fill(group, numbers); // the node's name is its drawn text (aria-labelledby), so it follows
    const badge = group.querySelector('[data-retrying]');
    if (badge) showBadge(badge, numbers.retrying || 0);
  }
  const entry = root.querySelector('.journey-diagram [data-entry]');
  if (entry && counts.nodes.__entry) fill(entry, counts.nodes.__entry);
  for (const label of root.querySelectorAll('.journey-diagram [data-edge]')) {
    const numbers = counts.edges[label.getAttribute('data-edge')];
    if (!numbers) continue;
    label.querySelector('[data-share-count]').textContent = number.format(numbers.count);
    label.querySelector('[data-share-percent]').textContent = percent(numbers.share);
    const full = label.getAttribute('data-full-label');
    const drawn = label.querySelector('[data-label]');
    if (full && drawn) {
      label.setAttribute('aria-label', `${drawn.textContent} ${number.format(numbers.count)} · ${percent(numbers.share)} (${full})`);
    }
  }
  for (const item of root.querySelectorAll('[data-list-step]')) {
    const numbers = counts.nodes[item.getAttribute('data-list-step')];
    if (numbers) fill(item, numbers);
  }
  for (const panel of root.querySelectorAll('[data-panel-step]')) {
    const numbers = counts.nodes[panel.getAttribute('data-panel-step')];
    if (numbers) fill(panel, numbers);
  }
  for (const kpi of root.querySelectorAll('[data-kpi]')) {
    const key = kpi.getAttribute('data-kpi');
    if (!(key in counts)) continue;
    kpi.textContent = key === 'conversion_rate' ? `${(counts[key] * 100).toFixed(1)}%` : number.format(counts[key]);
  }
}

// Polls ``url`` every ``seconds`` while the page is visible; ``status`` shows when it last answered.
export function startLive({ root, diagram, url, seconds, status, error }) {
  let timer = null;
  let busy = false;
  let stopped = false;
  const text = status.querySelector('[data-live-text]');
  const schedule = () => {
    if (timer === null && !busy && !stopped && !document.hidden) timer = setTimeout(tick, seconds * 1000);
  };
  async function tick() {
    timer = null;
    busy = true;
    try {
      const counts = await getJson(url);
      apply(root, diagram, counts);
      status.classList.remove('stale');
      text.textContent = `Live · updated ${new Date().toLocaleTimeString('en-GB')}`;
      error.hidden = true;
    } catch (failure) {
      status.classList.add('stale');
      text.textContent = 'Not updating';
      error.hidden = false;
      if (failure instanceof SignedOut) {
        error.textContent = 'Your session has ended: reload the page to sign in again.';
        stopped = true; // until the page is reloaded
      } else {
        error.textContent = `The counts could not be refreshed (${failure.message}); trying again.`;
      }
    } finally {
      busy = false;
    }
    schedule();
  }
  document.addEventListener('visibilitychange', () => {
    if (document.hidden && timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    schedule();
  });
  schedule();
}
