// Preview on the real workflow: a customer's story (events at offsets as on `journeys simulate -e`,
// traits, a variant per split step) run on a simulated clock, then its timeline, its path drawn on
// the diagram and each email as rendered; or a forecast of N generated customers, with progress,
// then its numbers drawn on the nodes. A story can be saved as a journey test (editors).
//
//   setupPreview({ root, svg, journey, sourceText, version }) -> { open, close, clear, redraw }
//
// root: the document (or an element) holding the opening button, `[data-preview-open]`; the panel
// is added to the document's body. svg: the diagram's <svg>, or a function returning the current one
// (a page that redraws it: what was drawn on it is drawn again on the new one by itself). journey:
// the journey's name. sourceText: optional, a function returning the unsaved YAML to preview instead
// of the version deployed (the editor). version: optional, a deployed version other than the current.
import { SignedOut, csrfToken, getJson } from './http.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const POLL_MS = 400;
const ENTRY = '__entry';
const END = '__end';
const number = new Intl.NumberFormat('en');

const PANEL = `
<div class="panel-head">
  <h2 id="pv-title" tabindex="-1">Preview <span class="pv-journey" data-pv-journey></span></h2>
  <button type="button" class="icon-button" data-pv-close aria-label="Close the preview (Escape)">
    <svg viewBox="0 0 16 16" aria-hidden="true"><path d="M4 4l8 8M12 4l-8 8"/></svg>
  </button>
</div>
<div class="panel-body pv-body">
  <p class="pv-intro">The journey's real workflow on a simulated clock: nothing is sent, no customer is touched. <span data-pv-source></span></p>
  <div class="pv-modes" role="group" aria-label="What to preview">
    <button type="button" class="pv-mode" data-pv-mode="story" aria-pressed="true">One customer</button>
    <button type="button" class="pv-mode" data-pv-mode="forecast" aria-pressed="false">Forecast many</button>
  </div>
  <p class="alert" role="alert" data-pv-error hidden></p>
  <section data-pv-section="story">
    <form class="pv-form" data-pv-story novalidate>
      <div class="pv-field" data-pv-presets hidden>
        <label for="pv-preset">Start from a test's story</label>
        <select id="pv-preset"><option value="">A new story</option></select>
      </div>
      <div class="pv-field">
        <label for="pv-name">Story</label>
        <input id="pv-name" name="name" maxlength="100" value="preview story" autocomplete="off">
      </div>
      <div class="pv-field">
        <label for="pv-events">What the customer does, one event per line</label>
        <textarea id="pv-events" rows="3" spellcheck="false" aria-describedby="pv-events-hint" placeholder="2d profile_completed&#10;5d 10:00 purchase_completed total=42"></textarea>
        <p class="pv-hint" id="pv-events-hint">When, then the event, as <code>journeys simulate -e</code> takes it: <code>2d</code> is two days in, <code>5d 10:00</code> day 5 at 10:00 on the customer's clock. Day 0 starts at 09:00 with <code data-pv-trigger>the trigger</code>.<span data-pv-listens></span></p>
      </div>
      <div class="pv-field">
        <label for="pv-traits">Who the customer is, one trait per line</label>
        <textarea id="pv-traits" rows="2" spellcheck="false" aria-describedby="pv-traits-hint" placeholder="timezone=Asia/Jakarta"></textarea>
        <p class="pv-hint" id="pv-traits-hint"><code>key=value</code>, over the sample customer Ada Lovelace (ada@example.com).</p>
      </div>
      <fieldset class="pv-field pv-variants" data-pv-variants hidden>
        <legend>A/B splits</legend>
      </fieldset>
      <div class="pv-row">
        <div class="pv-field">
          <label for="pv-horizon">Let time run</label>
          <input id="pv-horizon" name="horizon" value="90d" size="6" maxlength="20" aria-describedby="pv-horizon-hint" autocomplete="off">
        </div>
        <p class="pv-hint" id="pv-horizon-hint">up to <span data-pv-max-horizon>365d</span></p>
        <button type="submit" class="button" data-pv-run>Run story</button>
      </div>
    </form>
    <p class="pv-status" role="status" aria-live="polite" data-pv-status></p>
    <section class="pv-result" data-pv-result aria-labelledby="pv-result-title" hidden>
      <h3 id="pv-result-title" tabindex="-1">What happens</h3>
      <p class="pv-summary" data-pv-summary></p>
      <p class="pv-legend">On the diagram: the steps taken are outlined and numbered in order, the rest faded.</p>
      <ol class="pv-timeline" data-pv-timeline></ol>
      <h3 class="pv-emails-title">Emails <span class="count" data-pv-email-count>0</span></h3>
      <div data-pv-emails></div>
      <form class="pv-save" data-pv-save novalidate>
        <h3>Keep it as a test</h3>
        <p class="pv-hint" data-pv-save-why></p>
        <div class="pv-row">
          <div class="pv-field pv-grow">
            <label for="pv-test-name">Test name</label>
            <input id="pv-test-name" maxlength="100" autocomplete="off">
          </div>
          <button type="submit" class="button secondary" data-pv-save-button>Save as test</button>
        </div>
        <p class="pv-status" role="status" aria-live="polite" data-pv-saved></p>
      </form>
    </section>
  </section>
  <section data-pv-section="forecast" hidden>
    <form class="pv-form" data-pv-forecast novalidate>
      <div class="pv-row">
        <div class="pv-field">
          <label for="pv-customers">Customers</label>
          <input id="pv-customers" type="number" min="1" max="1000" value="100" inputmode="numeric" aria-describedby="pv-customers-hint">
        </div>
        <p class="pv-hint" id="pv-customers-hint">1 to <span data-pv-max-customers>1,000</span>, with the story's traits and horizon</p>
      </div>
      <div class="pv-field">
        <label for="pv-chances">How likely each event is, one per line</label>
        <textarea id="pv-chances" rows="3" spellcheck="false" aria-describedby="pv-chances-hint"></textarea>
        <p class="pv-hint" id="pv-chances-hint"><code>event=probability</code>, as <code>journeys simulate --p</code>. Unsaid: half of the customers send each event the journey waits for, 5% an exit event, at a random moment in their first 14 days (30 for exits).</p>
      </div>
      <div class="pv-row">
        <button type="submit" class="button" data-pv-forecast-run>Run forecast</button>
        <button type="button" class="button secondary" data-pv-stop hidden>Stop</button>
      </div>
    </form>
    <div class="pv-progress" data-pv-progress hidden>
      <label for="pv-progress-bar" data-pv-progress-label>Simulating customers</label>
      <progress id="pv-progress-bar" max="1" value="0"></progress>
      <span class="pv-progress-text" data-pv-progress-text></span>
    </div>
    <p class="pv-status" role="status" aria-live="polite" data-pv-forecast-status></p>
    <section class="pv-result" data-pv-forecast-result aria-labelledby="pv-forecast-title" hidden>
      <h3 id="pv-forecast-title" tabindex="-1">Forecast</h3>
      <p class="pv-summary" data-pv-forecast-summary></p>
      <p class="pv-legend">On the diagram: each step's forecast in a dark tag above it.</p>
      <div class="pv-table-wrap">
        <table class="pv-table">
          <caption class="visually-hidden">Forecast per step</caption>
          <thead><tr><th scope="col">Step</th><th scope="col" class="num">Entered</th><th scope="col" class="num">Waiting</th><th scope="col" class="num">Left there</th><th scope="col" class="num">Emails</th></tr></thead>
          <tbody data-pv-forecast-rows></tbody>
        </table>
      </div>
      <p class="pv-hint" data-pv-assumed></p>
    </section>
  </section>
  <p class="pv-actions"><button type="button" class="link-button pv-clear" data-pv-clear hidden>Clear the diagram</button></p>
</div>`;

function svgEl(name, attributes, parent) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (parent) parent.appendChild(node);
  return node;
}

function html(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const lines = (text) => text.split('\n').map((line) => line.trim()).filter(Boolean);
const when = (item) => `Day ${item.day} · ${item.time}`;

// What a refusal says: its detail, and every problem (a journey's, with line and column).
function refusal(status, body) {
  if (!body || typeof body !== 'object') return `${status}`;
  const problems = (body.errors || []).map((e) => (e.line ? `line ${e.line}:${e.column} ${e.path ? `${e.path}: ` : ''}${e.message}` : `${e.path}: ${e.message}`));
  const detail = typeof body.detail === 'string' ? body.detail : JSON.stringify(body.detail);
  return problems.length ? `${detail}: ${problems.join('; ')}` : detail;
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrfToken() },
    body: JSON.stringify(body),
  });
  if (response.redirected && new URL(response.url).pathname.startsWith('/ui/sign-in')) throw new SignedOut('signed out');
  const answer = await response.json().catch(() => null);
  if (!response.ok) throw new Error(refusal(response.status, answer));
  return answer;
}

const failureWords = (failure) => (failure instanceof SignedOut ? 'Your session has ended: reload the page to sign in again.' : failure.message);

// The node of ``id`` in ``svg`` (a step, the entry or the end).
function nodeOf(svg, id) {
  if (id === ENTRY) return svg.querySelector('.node[data-entry]');
  if (id === END) return svg.querySelector('.node[data-end]');
  return svg.querySelector(`.node[data-step="${CSS.escape(id)}"]`);
}

function widthOf(node) {
  const shape = node.querySelector('.shape');
  return shape ? Number(shape.getAttribute('width')) || shape.getBBox().width : 0;
}

// --------------------------------------------------------------------------- drawing on the diagram

function clearDrawing(svg) {
  if (!svg) return;
  svg.classList.remove('pv-on', 'pv-forecast-on');
  for (const mark of svg.querySelectorAll('.pv-order, .pv-tag')) mark.remove();
  for (const node of svg.querySelectorAll('.pv-path, .pv-taken')) node.classList.remove('pv-path', 'pv-taken');
  for (const node of svg.querySelectorAll('[data-pv-said]')) {
    node.removeAttribute('aria-description');
    node.removeAttribute('data-pv-said');
  }
}

function describe(node, words) {
  node.setAttribute('aria-description', words);
  node.setAttribute('data-pv-said', '');
}

// The story's path: its nodes outlined and numbered in the order entered, its edges drawn bold,
// everything else faded.
function drawPath(svg, path) {
  clearDrawing(svg);
  svg.classList.add('pv-on');
  const visits = new Map();
  path.steps.forEach((step, index) => visits.set(step, [...(visits.get(step) || []), index + 1]));
  for (const id of path.nodes) {
    const node = nodeOf(svg, id);
    if (!node) continue;
    node.classList.add('pv-path');
    const order = visits.get(id);
    if (!order) continue;
    const badge = svgEl('g', { class: 'pv-order', transform: 'translate(-9,-9)', 'aria-hidden': 'true' }, node);
    const label = order.join(', ');
    const width = Math.max(22, 10 + 7 * label.length);
    svgEl('rect', { x: -width / 2, y: -11, height: 22, width, rx: 11 }, badge);
    svgEl('text', { x: 0, y: 4.5, 'text-anchor': 'middle' }, badge).textContent = label;
    describe(node, `In the preview: step ${label} of ${path.steps.length}.`);
  }
  const taken = new Set(path.edges);
  for (const edge of svg.querySelectorAll('[data-edge-line]')) {
    if (taken.has(edge.getAttribute('data-edge-line'))) edge.classList.add('pv-taken');
  }
  for (const label of svg.querySelectorAll('[data-edge]')) {
    if (taken.has(label.getAttribute('data-edge'))) label.classList.add('pv-taken');
  }
}

// A forecast: a dark tag above each node with its numbers.
function drawForecast(svg, counts) {
  clearDrawing(svg);
  svg.classList.add('pv-forecast-on');
  for (const [id, numbers] of Object.entries(counts.nodes)) {
    const node = nodeOf(svg, id);
    if (!node) continue;
    const words = [`${number.format(numbers.entered)} entered`];
    if (numbers.waiting) words.push(`${number.format(numbers.waiting)} waiting`);
    if (numbers.sent) words.push(`${number.format(numbers.sent)} sent`);
    const text = `Forecast: ${words.join(' · ')}`;
    const tag = svgEl('g', { class: 'pv-tag', 'aria-hidden': 'true', 'data-pv-tag': id }, node);
    const rect = svgEl('rect', { y: -13, height: 22, rx: 11 }, tag);
    const label = svgEl('text', { y: 2.5 }, tag);
    label.textContent = text;
    const width = label.getComputedTextLength() + 20;
    const right = widthOf(node) - 8;
    rect.setAttribute('x', String(right - width));
    rect.setAttribute('width', String(width));
    label.setAttribute('x', String(right - width + 10));
    describe(node, `${text}.`);
  }
}

// --------------------------------------------------------------------------- the panel

export function setupPreview({ root = document, svg, journey, sourceText = null, version = null }) {
  const doc = root.ownerDocument || root;
  const opener = root.querySelector('[data-preview-open]');
  const panel = doc.createElement('aside');
  panel.className = 'pv-panel';
  panel.id = 'preview-panel';
  panel.hidden = true;
  panel.setAttribute('aria-labelledby', 'pv-title');
  panel.innerHTML = PANEL; // our own markup: nothing from the server or the user goes in here
  doc.body.appendChild(panel);
  const $ = (selector) => panel.querySelector(selector);
  const base = `/ui/journeys/${encodeURIComponent(journey)}`;
  $('[data-pv-journey]').textContent = journey;
  const svgNow = () => (typeof svg === 'function' ? svg() : svg) || null;
  let options = null;
  let drawn = null; // what is drawn on the diagram: { path } or { counts }
  let story = null; // the finished story's job
  let running = null; // the job running now
  let returnTo = null;

  const target = () => {
    if (sourceText) return { source: sourceText() };
    return version ? { version } : {};
  };

  // A page that draws a new <svg> (the editor, after each valid change) gets the drawing back.
  let watched = null;
  function watch() {
    const host = svgNow() && svgNow().parentNode;
    if (!host || host === watched) return;
    watched = host;
    new MutationObserver(() => {
      const current = svgNow();
      if (drawn && current && !current.classList.contains(drawn.path ? 'pv-on' : 'pv-forecast-on')) redraw();
    }).observe(host, { childList: true });
  }

  function redraw() {
    watch();
    const current = svgNow();
    if (!current) return;
    if (!drawn) clearDrawing(current);
    else if (drawn.path) drawPath(current, drawn.path);
    else drawForecast(current, drawn.counts);
    $('[data-pv-clear]').hidden = !drawn;
  }

  function clear() {
    drawn = null;
    redraw();
  }

  watch();

  function showError(words) {
    const box = $('[data-pv-error]');
    box.textContent = words || '';
    box.hidden = !words;
  }

  function setMode(mode) {
    for (const button of panel.querySelectorAll('[data-pv-mode]')) {
      button.setAttribute('aria-pressed', String(button.getAttribute('data-pv-mode') === mode));
    }
    for (const section of panel.querySelectorAll('[data-pv-section]')) {
      section.hidden = section.getAttribute('data-pv-section') !== mode;
    }
  }

  // ------------------------------------------------------------------ the form

  function fillForm(found) {
    $('[data-pv-trigger]').textContent = found.trigger;
    $('[data-pv-listens]').textContent = found.events.length ? ` It listens for ${found.events.join(', ')}.` : '';
    $('[data-pv-max-horizon]').textContent = found.max_horizon;
    $('[data-pv-max-customers]').textContent = number.format(found.max_customers);
    $('#pv-customers').max = String(found.max_customers);
    $('#pv-chances').placeholder = found.events.map((e) => `${e}=0.5`).join('\n');
    $('[data-pv-source]').textContent = sourceText
      ? 'It runs the text in the editor, saved or not.'
      : `It runs version ${found.version}.`;
    const fields = $('[data-pv-variants]');
    const chosen = Object.fromEntries([...fields.querySelectorAll('select')].map((s) => [s.dataset.pvVariant, s.value]));
    fields.replaceChildren(html('legend', '', 'A/B splits'));
    for (const split of found.splits) {
      const id = `pv-variant-${split.step}`;
      const field = html('div', 'pv-field');
      const label = html('label', '', `${split.step} puts the customer in`);
      label.htmlFor = id;
      const select = html('select');
      select.id = id;
      select.dataset.pvVariant = split.step;
      select.append(new Option('whichever their id picks (as live)', ''));
      for (const name of split.variants) select.append(new Option(`variant ${name}`, name));
      if (split.control) select.append(new Option('the control group', 'control'));
      if (chosen[split.step] !== undefined) select.value = chosen[split.step];
      field.append(label, select);
      fields.appendChild(field);
    }
    fields.hidden = !found.splits.length;
    const presets = $('#pv-preset');
    presets.replaceChildren(new Option('A new story', ''));
    found.stories.forEach((s, index) => presets.append(new Option(s.name, String(index))));
    $('[data-pv-presets]').hidden = !found.stories.length;
    $('[data-pv-save-why]').textContent = found.can_save
      ? `Appends the story, with the emails and steps it produced as what to expect, to tests/${found.journey}.yaml; journeys test runs it from then on.`
      : found.why_not_save;
    $('[data-pv-save-button]').disabled = !found.can_save;
    $('#pv-test-name').disabled = !found.can_save;
  }

  function usePreset(index) {
    const preset = options && options.stories[Number(index)];
    if (!preset) return;
    $('#pv-name').value = preset.name;
    $('#pv-events').value = preset.events.join('\n');
    $('#pv-traits').value = preset.traits.join('\n');
    $('#pv-horizon').value = preset.horizon;
    for (const select of panel.querySelectorAll('[data-pv-variant]')) {
      select.value = preset.variants[select.dataset.pvVariant] || '';
    }
  }

  async function loadOptions() {
    try {
      options = await postJson(`${base}/preview/options`, target());
      fillForm(options);
      showError('');
      return true;
    } catch (failure) {
      showError(`The journey cannot be previewed: ${failureWords(failure)}`);
      return false;
    }
  }

  function storyOf() {
    const variants = {};
    for (const select of panel.querySelectorAll('[data-pv-variant]')) {
      if (select.value) variants[select.dataset.pvVariant] = select.value;
    }
    return {
      name: $('#pv-name').value.trim() || 'preview story',
      events: lines($('#pv-events').value),
      traits: lines($('#pv-traits').value),
      variants,
      horizon: $('#pv-horizon').value.trim() || '90d',
    };
  }

  // ------------------------------------------------------------------ running

  function busy(on) {
    for (const button of panel.querySelectorAll('[data-pv-run], [data-pv-forecast-run]')) button.disabled = on;
    $('[data-pv-stop]').hidden = !on || !running || running.kind !== 'forecast';
    panel.dataset.pvState = on ? 'running' : 'idle';
  }

  async function follow(job, onProgress) {
    running = job;
    busy(true);
    try {
      let state = job;
      while (state.state === 'running') {
        onProgress(state);
        await new Promise((resolve) => { setTimeout(resolve, POLL_MS); });
        state = await getJson(`/ui/preview/${encodeURIComponent(job.id)}`);
      }
      onProgress(state);
      return state;
    } finally {
      running = null;
      busy(false);
    }
  }

  async function runStory() {
    showError('');
    const status = $('[data-pv-status]');
    status.textContent = 'Running the story on a simulated clock…';
    busy(true);
    let job;
    try {
      job = await postJson(`${base}/preview`, { ...target(), story: storyOf() });
    } catch (failure) {
      busy(false);
      status.textContent = '';
      showError(`Not run: ${failureWords(failure)}`);
      return;
    }
    try {
      const done = await follow(job, () => {});
      if (done.state !== 'done') {
        status.textContent = '';
        showError(`The story did not finish: ${done.error}`);
        return;
      }
      story = done;
      status.textContent = `Done: ${done.story.timeline.length} moments over ${done.story.story.horizon}.`;
      showStory(done);
    } catch (failure) {
      status.textContent = '';
      showError(`The story could not be followed: ${failureWords(failure)}`);
    }
  }

  function showStory(job) {
    const result = job.story;
    const run = result.runs[result.runs.length - 1];
    const sentEmails = result.emails.filter((e) => e.status === 'sent');
    const customer = result.story.traits.first_name || result.customer_id;
    const parts = [];
    if (!run) parts.push(`${customer} does not enter the journey`);
    else if (run.outcome === 'running') parts.push(`${customer} is still in the journey at the horizon (${run.reason})`);
    else if (run.outcome === 'completed') parts.push(`${customer} reaches the end of the journey on day ${run.ended_day}`);
    else if (run.outcome === 'control') parts.push(`${customer} is in the control group from day ${run.ended_day} (${run.reason})`);
    else if (run.outcome === 'exited') parts.push(`${customer} leaves on day ${run.ended_day} (${run.reason})`);
    else parts.push(`${customer} leaves on day ${run.ended_day} (${run.outcome}: ${run.reason})`);
    if (run && run.goal_reached) parts.push(`goal reached on day ${run.goal_day}`);
    parts.push(`${sentEmails.length} email${sentEmails.length === 1 ? '' : 's'}`, `${number.format(result.points)} points`);
    if (result.stage) parts.push(`stage ${result.stage}`);
    $('[data-pv-summary]').textContent = `${parts.join(' · ')}.`;

    const list = $('[data-pv-timeline]');
    list.replaceChildren();
    let previous = '';
    for (const entry of result.timeline) {
      const item = html('li', `pv-entry pv-k-${entry.kind}`);
      item.dataset.kind = entry.kind;
      const moment = when(entry);
      item.append(html('span', moment === previous ? 'pv-when pv-same' : 'pv-when', moment));
      previous = moment;
      if (entry.step && entry.step !== 'goal') {
        const step = html('button', 'pv-step', entry.step);
        step.type = 'button';
        step.dataset.pvGoto = entry.step;
        step.setAttribute('aria-label', `${entry.step}: show it on the diagram`);
        item.append(step);
      }
      item.append(html('span', 'pv-what', entry.text));
      list.appendChild(item);
    }

    const emails = $('[data-pv-emails]');
    emails.replaceChildren();
    $('[data-pv-email-count]').textContent = String(result.emails.length);
    if (!result.emails.length) emails.append(html('p', 'muted', 'No email in this story.'));
    for (const email of result.emails) {
      const card = html('article', 'pv-email');
      card.dataset.pvEmail = String(email.index);
      card.dataset.step = email.step;
      const head = html('p', 'pv-email-head');
      head.append(html('span', 'pv-when', when(email)), html('strong', 'pv-subject', email.subject || email.name));
      const meta = email.status === 'sent' ? `${email.name} · to ${email.recipient}` : `${email.name} · ${email.status}${email.reason ? `: ${email.reason}` : ''}`;
      card.append(head, html('p', 'pv-email-meta', meta));
      if (email.html) {
        const frame = html('iframe', 'email-frame pv-frame');
        frame.setAttribute('sandbox', '');
        frame.title = `The email “${email.subject || email.name}” as ${customer} gets it`;
        frame.src = `/ui/preview/${encodeURIComponent(job.id)}/emails/${email.index}`;
        card.append(frame);
      }
      if (email.text) {
        const details = html('details', 'email-text');
        details.append(html('summary', '', 'Plain text'), html('pre', 'pv-text', email.text));
        card.append(details);
      }
      emails.appendChild(card);
    }
    $('#pv-test-name').value = result.story.name;
    $('[data-pv-saved]').textContent = '';
    $('[data-pv-result]').hidden = false;
    panel.dataset.job = job.id;
    drawn = { path: result.path };
    redraw();
    showResult('#pv-result-title');
  }

  // The answer in view, and the focus on its heading (so a screen reader reads on from there).
  function showResult(heading) {
    const title = $(heading);
    title.scrollIntoView({ block: 'start' });
    title.focus({ preventScroll: true });
  }

  async function runForecast() {
    showError('');
    const status = $('[data-pv-forecast-status]');
    const bar = $('#pv-progress-bar');
    const words = $('[data-pv-progress-text]');
    const body = {
      ...target(),
      customers: Number($('#pv-customers').value),
      p: lines($('#pv-chances').value),
      traits: lines($('#pv-traits').value),
      horizon: $('#pv-horizon').value.trim() || '90d',
    };
    status.textContent = 'Starting the forecast…';
    busy(true);
    let job;
    try {
      job = await postJson(`${base}/forecast`, body);
    } catch (failure) {
      busy(false);
      status.textContent = '';
      showError(`Not run: ${failureWords(failure)}`);
      return;
    }
    $('[data-pv-progress]').hidden = false;
    $('[data-pv-forecast-result]').hidden = true;
    try {
      const done = await follow(job, (state) => {
        const { done: count, total } = state.progress;
        bar.max = Math.max(total, 1);
        bar.value = count;
        words.textContent = total ? `${Math.floor((100 * count) / total)}%` : '';
        status.textContent = state.state === 'running' ? `Simulating ${number.format(body.customers)} customers…` : '';
      });
      $('[data-pv-progress]').hidden = true;
      if (done.state !== 'done') {
        showError(`The forecast did not finish: ${done.error}`);
        return;
      }
      status.textContent = `Done: ${number.format(done.forecast.customers)} customers.`;
      showForecast(done);
    } catch (failure) {
      $('[data-pv-progress]').hidden = true;
      status.textContent = '';
      showError(`The forecast could not be followed: ${failureWords(failure)}`);
    }
  }

  function showForecast(job) {
    const result = job.forecast;
    const runs = Object.values(result.outcomes).reduce((a, b) => a + b, 0);
    const rate = runs ? `${((100 * result.converted) / runs).toFixed(1)}%` : '-';
    $('[data-pv-forecast-summary]').textContent = `${number.format(result.entered)} of ${number.format(result.customers)} enter; `
      + `${number.format(result.converted)} reach the goal (${rate}); ${number.format(result.emails)} emails; ${number.format(result.points)} points.`;
    const rows = $('[data-pv-forecast-rows]');
    rows.replaceChildren();
    for (const step of result.steps) {
      const row = html('tr');
      row.dataset.step = step.step;
      const name = html('th', '', step.step);
      name.scope = 'row';
      row.append(name);
      for (const value of [step.entered, step.waiting, step.exited, step.emails]) row.append(html('td', 'num', number.format(value)));
      rows.appendChild(row);
    }
    $('[data-pv-assumed]').textContent = `Assumed: ${result.assumed.join('; ') || 'no events besides the trigger'}.`;
    $('[data-pv-forecast-result]').hidden = false;
    panel.dataset.job = job.id;
    drawn = { counts: result.counts };
    redraw();
    showResult('#pv-forecast-title');
  }

  async function stop() {
    if (!running) return;
    try {
      await postJson(`/ui/preview/${encodeURIComponent(running.id)}/stop`, {});
    } catch (failure) {
      showError(`Not stopped: ${failureWords(failure)}`);
    }
  }

  async function save() {
    const said = $('[data-pv-saved]');
    if (!story) return;
    $('[data-pv-save-button]').disabled = true;
    try {
      const saved = await postJson(`/ui/preview/${encodeURIComponent(story.id)}/test`, { name: $('#pv-test-name').value.trim() || null });
      said.textContent = `Saved as “${saved.name}” in ${saved.file}.`;
      said.classList.remove('pv-bad');
    } catch (failure) {
      said.textContent = `Not saved: ${failureWords(failure)}`;
      said.classList.add('pv-bad');
    } finally {
      $('[data-pv-save-button]').disabled = !(options && options.can_save);
    }
  }

  function goto(step) {
    const node = svgNow() && nodeOf(svgNow(), step);
    if (!node) return;
    node.scrollIntoView({ block: 'center', inline: 'center', behavior: 'smooth' });
    node.focus({ preventScroll: true });
  }

  // ------------------------------------------------------------------ opening and closing

  async function open() {
    returnTo = doc.activeElement;
    panel.hidden = false;
    doc.body.classList.add('pv-open');
    if (opener) opener.setAttribute('aria-expanded', 'true');
    $('#pv-title').focus();
    await loadOptions();
  }

  function close() {
    if (panel.hidden) return;
    panel.hidden = true;
    doc.body.classList.remove('pv-open');
    if (opener) opener.setAttribute('aria-expanded', 'false');
    const back = opener || returnTo;
    if (back && back.focus) back.focus();
  }

  if (opener) {
    opener.setAttribute('aria-controls', panel.id);
    opener.setAttribute('aria-expanded', 'false');
    opener.addEventListener('click', () => (panel.hidden ? open() : close()));
  }
  $('[data-pv-close]').addEventListener('click', close);
  $('[data-pv-clear]').addEventListener('click', clear);
  $('[data-pv-stop]').addEventListener('click', stop);
  $('#pv-preset').addEventListener('change', (event) => usePreset(event.target.value));
  $('[data-pv-story]').addEventListener('submit', (event) => { event.preventDefault(); runStory(); });
  $('[data-pv-forecast]').addEventListener('submit', (event) => { event.preventDefault(); runForecast(); });
  $('[data-pv-save]').addEventListener('submit', (event) => { event.preventDefault(); save(); });
  panel.addEventListener('click', (event) => {
    const mode = event.target.closest('[data-pv-mode]');
    if (mode) setMode(mode.getAttribute('data-pv-mode'));
    const step = event.target.closest('[data-pv-goto]');
    if (step) goto(step.getAttribute('data-pv-goto'));
  });
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation(); // the step panel, if open, stays open
      close();
    }
  });
  // Escape elsewhere closes the preview too, unless a step panel is open (its own Escape closes it).
  // Capture: this runs before the step panel's own handler closes it.
  doc.addEventListener('keydown', (event) => {
    const stepPanel = doc.getElementById('panel');
    if (event.key === 'Escape' && !panel.hidden && (!stepPanel || stepPanel.hidden)) close();
  }, true);
  return { open, close, clear, redraw };
}
