// Zoom for the diagram: the SVG keeps its layout (viewBox) and is drawn larger or smaller.
const STEPS = [0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.15, 1.3, 1.5];

export function setupZoom(bar, host, svg) {
  const width = Number(svg.getAttribute('width'));
  const height = Number(svg.getAttribute('height'));
  const level = bar.querySelector('[data-zoom-level]');
  let scale = 1;
  const set = (next) => {
    scale = Math.min(STEPS[STEPS.length - 1], Math.max(STEPS[0], next));
    svg.setAttribute('width', String(Math.round(width * scale)));
    svg.setAttribute('height', String(Math.round(height * scale)));
    level.textContent = `${Math.round(scale * 100)}%`;
    level.parentElement.setAttribute('aria-label', `${level.textContent}: show at actual size`);
  };
  bar.addEventListener('click', (event) => {
    const button = event.target.closest('[data-zoom]');
    if (!button) return;
    const action = button.getAttribute('data-zoom');
    if (action === 'in') set(STEPS.find((s) => s > scale + 0.001) ?? scale);
    if (action === 'out') set([...STEPS].reverse().find((s) => s < scale - 0.001) ?? scale);
    if (action === 'fit') set(Math.min(1, host.clientWidth / width, host.clientHeight / height));
    if (action === 'reset') set(1);
  });
  bar.hidden = false;
}
