// The reports page: draw its charts from the numbers the page carries (the tables show the same).
import { bars, colourOf, stackedDays } from './charts.js';

function draw() {
  const data = JSON.parse(document.getElementById('reports-data').textContent);
  const lifecycle = document.querySelector('[data-chart="lifecycle"]');
  if (lifecycle) {
    const series = data.lifecycle.stages.map((s, i) => ({
      label: s.stage, colour: colourOf(s.stage, i), values: s.customers,
    }));
    stackedDays(lifecycle, data.lifecycle.days, series);
    lifecycle.setAttribute('data-drawn', 'true');
  }
  const acquisition = document.querySelector('[data-chart="acquisition"]');
  if (acquisition) {
    bars(acquisition, data.acquisition.sources, [
      { label: 'Sign-ups', colour: '#2563eb', values: data.acquisition.signups },
      { label: 'Made a first purchase', colour: '#15803d', values: data.acquisition.purchasers },
    ]);
    acquisition.setAttribute('data-drawn', 'true');
  }
  const value = document.querySelector('[data-chart="value"]');
  if (value) {
    bars(value, data.value.sources, [
      { label: 'Average per customer', colour: '#7c3aed', values: data.value.average_per_customer },
    ], { money: true });
    value.setAttribute('data-drawn', 'true');
  }
}

if (document.getElementById('reports-data')) {
  if (globalThis.uPlot) draw();
  else window.addEventListener('load', draw, { once: true });
}
