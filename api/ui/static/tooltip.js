// The whole text of whatever the drawing shortened (a branch condition, a long audience), on hover
// and on focus.
export function setupTooltips(host) {
  const tip = document.createElement('div');
  tip.className = 'tooltip';
  tip.setAttribute('role', 'tooltip');
  tip.id = 'diagram-tooltip';
  tip.hidden = true;
  host.appendChild(tip);
  const show = (label) => {
    tip.textContent = label.getAttribute('data-full-label');
    tip.hidden = false;
    const box = label.getBoundingClientRect();
    const frame = host.getBoundingClientRect();
    tip.style.left = `${box.left - frame.left + host.scrollLeft}px`;
    tip.style.top = `${box.bottom - frame.top + host.scrollTop + 6}px`;
    if (!label.hasAttribute('data-described-by')) {
      label.setAttribute('data-described-by', label.getAttribute('aria-describedby') || '');
    }
    label.setAttribute('aria-describedby', tip.id);
  };
  const hide = (label) => {
    tip.hidden = true;
    if (!label || !label.hasAttribute('data-described-by')) return;
    const before = label.getAttribute('data-described-by');
    label.removeAttribute('data-described-by');
    if (before) label.setAttribute('aria-describedby', before);
    else label.removeAttribute('aria-describedby');
  };
  const labelOf = (event) => event.target.closest && event.target.closest('[data-full-label]');
  host.addEventListener('mouseover', (event) => { const l = labelOf(event); if (l) show(l); });
  host.addEventListener('mouseout', (event) => { const l = labelOf(event); if (l) hide(l); });
  host.addEventListener('focusin', (event) => { const l = labelOf(event); if (l) show(l); });
  host.addEventListener('focusout', (event) => { const l = labelOf(event); if (l) hide(l); });
}
