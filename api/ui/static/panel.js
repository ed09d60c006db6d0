// The side panel of a step: opened by a click on a node or Enter (or Space) on it, closed by its
// button or Escape, which gives the focus back to the node. Its HTML comes from the server.
import { SignedOut, getHtml } from './http.js';

export function setupPanel({ root, svg, panelUrl, version, onOpen }) {
  const panel = root.querySelector('#panel');
  const body = panel.querySelector('#panel-body');
  const title = panel.querySelector('#panel-title');
  const workspace = root.querySelector('#workspace');
  let current = null; // the node group whose panel is open
  let request = 0;

  const stepUrl = (step, suffix = '', extra = '') =>
    `${panelUrl}${encodeURIComponent(step)}${suffix}?version=${encodeURIComponent(version)}${extra}`;

  function close() {
    if (!current) return;
    const node = current;
    current = null;
    request += 1;
    panel.hidden = true;
    workspace.classList.remove('with-panel');
    node.classList.remove('selected');
    node.setAttribute('aria-expanded', 'false');
    body.replaceChildren();
    node.focus();
  }

  async function open(node) {
    if (current) {
      current.classList.remove('selected');
      current.setAttribute('aria-expanded', 'false');
    }
    current = node;
    const step = node.getAttribute('data-step');
    const mine = ++request;
    node.classList.add('selected');
    node.setAttribute('aria-expanded', 'true');
    title.textContent = step;
    body.innerHTML = '<p class="muted">Loading…</p>';
    panel.hidden = false;
    workspace.classList.add('with-panel');
    try {
      const html = await getHtml(stepUrl(step));
      if (mine !== request) return; // another step was opened meanwhile
      body.innerHTML = html; // server-rendered, autoescaped by Jinja2
      if (onOpen) onOpen();
    } catch (failure) {
      if (mine !== request) return;
      const message = failure instanceof SignedOut ? 'Your session has ended: reload the page to sign in again.' : failure.message;
      const alert = document.createElement('p');
      alert.className = 'alert';
      alert.setAttribute('role', 'alert');
      alert.textContent = `The step could not be shown: ${message}`;
      body.replaceChildren(alert);
    }
    title.focus();
    node.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  svg.addEventListener('click', (event) => {
    const node = event.target.closest('[data-step]');
    if (node) open(node);
  });
  svg.addEventListener('keydown', (event) => {
    const node = event.target.closest('[data-step]');
    if (node && (event.key === 'Enter' || event.key === ' ')) {
      event.preventDefault();
      open(node);
    }
  });
  panel.querySelector('#panel-close').addEventListener('click', close);
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && current) {
      event.preventDefault();
      close();
    }
  });
  // The next page of customers waiting at the step.
  body.addEventListener('click', async (event) => {
    const more = event.target.closest('[data-more]');
    if (!more || !current) return;
    const holder = more.closest('[data-waiting]');
    const step = current.getAttribute('data-step');
    more.disabled = true;
    try {
      holder.innerHTML = await getHtml(stepUrl(step, '/customers', `&after=${encodeURIComponent(more.getAttribute('data-more'))}`));
      const first = holder.querySelector('a, button');
      if (first) first.focus();
    } catch (failure) {
      more.disabled = false;
      more.textContent = `More customers (failed: ${failure.message}; try again)`;
    }
  });
  return { open, close };
}
