// The journeys page: pause and resume (editors), through the API with the session's CSRF token.
import { post } from './http.js';

const message = document.getElementById('journeys-message');

function showStatus(row, paused) {
  const cell = row.querySelector('[data-cell="status"]');
  const badge = document.createElement('span');
  badge.className = `status ${paused ? 'status-paused' : 'status-live'}`;
  const dot = document.createElement('span');
  dot.className = 'dot';
  dot.setAttribute('aria-hidden', 'true');
  badge.append(dot, paused ? 'Paused' : 'Live');
  cell.replaceChildren(badge);
}

document.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  const name = button.getAttribute('data-journey');
  const action = button.getAttribute('data-action');
  const row = button.closest('tr');
  button.disabled = true;
  try {
    const state = await post(`/v1/journeys/${encodeURIComponent(name)}/${action}`);
    showStatus(row, state.paused);
    button.setAttribute('data-action', state.paused ? 'resume' : 'pause');
    button.firstChild.textContent = state.paused ? 'Resume' : 'Pause';
    message.hidden = true;
  } catch (failure) {
    message.textContent = `Could not ${action} ${name}: ${failure.message}`;
    message.hidden = false;
  } finally {
    button.disabled = false;
    button.focus();
  }
});
