// The review panel: before a deploy, what the new text changes (the YAML diff and the plan diff)
// and what it does to the customers in flight, from the API's review of the text.
import { csrfToken } from './http.js';

function element(tag, attributes = {}, text = '') {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

function section(title) {
  const part = element('section', { class: 'panel-section' });
  part.appendChild(element('h3', {}, title));
  return part;
}

function diffBlock(text) {
  const pre = element('pre', { class: 'diff', tabindex: '0', 'aria-label': 'Changes to the YAML' });
  for (const line of text.split('\n')) {
    const kind = line.startsWith('+') && !line.startsWith('+++') ? 'add' : line.startsWith('-') && !line.startsWith('---') ? 'del' : '';
    pre.appendChild(element('span', kind ? { class: kind } : {}, `${line}\n`));
  }
  return pre;
}

// A sentence with `step` names in backticks, the names set as code.
function words(tag, sentence) {
  const node = element(tag);
  sentence.split('`').forEach((piece, index) => {
    if (!piece) return;
    node.appendChild(index % 2 ? element('code', {}, piece) : document.createTextNode(piece));
  });
  return node;
}

function list(items) {
  const ul = element('ul');
  for (const item of items) ul.appendChild(words('li', item));
  return ul;
}

export function render(body, review) {
  body.replaceChildren();
  if (!review.valid) {
    body.appendChild(element('p', { class: 'alert' }, 'The text has problems: fix them before a review.'));
    return;
  }
  const impact = section('Customers in flight');
  const sentences = review.impact?.sentences || [];
  if (sentences.length) {
    const box = element('div', { class: 'impact', 'data-impact': '' });
    box.appendChild(list(sentences));
    impact.appendChild(box);
  } else {
    impact.appendChild(element('p', { 'data-impact': '' }, 'No customer waits at a step this change removes or changes.'));
  }
  body.appendChild(impact);
  const plan = section('Steps');
  const changes = review.plan_diff?.summary || [];
  plan.appendChild(changes.length ? list(changes) : element('p', {}, 'No step changes.'));
  body.appendChild(plan);
  const yaml = section('YAML');
  yaml.appendChild(review.yaml_diff ? diffBlock(review.yaml_diff) : element('p', {}, 'The text is unchanged.'));
  body.appendChild(yaml);
}

export function setupReview({ button, url, text }) {
  const panel = document.getElementById('review-panel');
  const body = document.getElementById('review-body');
  const close = document.getElementById('review-close');
  const title = document.getElementById('review-title');
  const hide = () => {
    panel.hidden = true;
    button.focus();
  };
  close.addEventListener('click', hide);
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') hide();
  });
  button.addEventListener('click', async () => {
    panel.hidden = false;
    body.replaceChildren(element('p', { class: 'muted' }, 'Reviewing…'));
    title.focus();
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/yaml', Accept: 'application/json', 'X-CSRF-Token': csrfToken() },
      body: text(),
    });
    const review = await response.json().catch(() => ({}));
    if (!response.ok && response.status !== 422) {
      body.replaceChildren(element('p', { class: 'alert' }, `The review failed: ${review.detail || response.statusText}`));
      return;
    }
    render(body, response.status === 422 ? { valid: false } : review);
    panel.setAttribute('data-reviewed', 'true');
  });
}
