// The journey page's results panel: load it (server-rendered) once the page is up, and on Refresh.
import { SignedOut, getHtml } from './http.js';

function setup() {
  const section = document.getElementById('results');
  if (!section) return;
  const body = document.getElementById('results-body');
  const button = section.querySelector('[data-results-refresh]');
  async function load() {
    body.setAttribute('aria-busy', 'true');
    button.disabled = true;
    try {
      body.innerHTML = await getHtml(section.dataset.resultsUrl); // server-rendered, autoescaped by Jinja2
      section.setAttribute('data-loaded', 'true');
    } catch (failure) {
      const message = document.createElement('p');
      message.className = 'alert';
      message.setAttribute('role', 'alert');
      message.textContent = failure instanceof SignedOut
        ? 'You were signed out: reload the page to sign in again.'
        : `The results could not be loaded (${failure.message}).`;
      body.replaceChildren(message);
      section.setAttribute('data-loaded', 'failed');
    } finally {
      body.setAttribute('aria-busy', 'false');
      button.disabled = false;
    }
  }
  button.addEventListener('click', load);
  load();
}

setup();
