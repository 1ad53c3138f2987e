// lockscope's Explorer page (docs/ci.md, "The Explorer"). It reads stateright's Explorer API,
// GET /.status, GET /.states/<init>/<action>/... and POST /.runtocompletion, and LOCKSCOPE, what
// `lockscope explore` embeds in the page: the scenario, the properties by kind, and the
// counterexample it opened, if any.
//
// The address says what is shown: #/steps/<init>/<action>/...?offset=<k> is the path of action
// indices (as stateright's page reads it) with the state k steps before its end selected.
'use strict';

const page = LOCKSCOPE;
const byId = (id) => document.getElementById(id);

// The steps the Explorer offers after a path of indices, fetched once per path.
const offered = new Map();

function fetchSteps(indices) {
  const key = indices.join('/');
  if (!offered.has(key)) {
    const request = fetch(indices.length ? '/.states/' + key : '/.states')
      .then((response) => {
        if (!response.ok) {
          throw new Error('the Explorer has no state after the path ' + key);
        }
        return response.json();
      })
      .catch((error) => {
        offered.delete(key);
        throw error;
      });
    offered.set(key, request);
  }
  return offered.get(key);
}

// The path being shown: indices[k] chose steps[k] (steps[0] is the initial state).
let view = { indices: [], steps: [], selected: 0 };

function address(indices, selected) {
  return '#/steps/' + indices.join('/') + '?offset=' + (indices.length - 1 - selected);
}

function parseAddress() {
  const [route, query] = (window.location.hash || '').split('?');
  const parts = route.split('/');
  if (parts[0] !== '#' || parts[1] !== 'steps') {
    return null;
  }
  const indices = parts.slice(2).filter((p) => p !== '').map(Number);
  if (indices.length === 0 || indices.some((n) => !Number.isInteger(n) || n < 0)) {
    return null;
  }
  let offset = 0;
  for (const pair of (query || '').split('&')) {
    const [key, value] = pair.split('=');
    if (key === 'offset' && Number.isInteger(Number(value))) {
      offset = Number(value);
    }
  }
  return { indices, offset };
}

async function showAddress() {
  let wanted = parseAddress();
  if (!wanted) {
    // The counterexample if one was opened, else the initial state.
    history.replaceState(null, '', page.trace ? page.trace.url : '#/steps/0');
    wanted = parseAddress();
  }
  const steps = [];
  try {
    for (let k = 0; k < wanted.indices.length; k++) {
      const choices = await fetchSteps(wanted.indices.slice(0, k));
      const step = choices.find((c) => c.actionIndex === wanted.indices[k]);
      if (!step || step.state === undefined) {
        throw new Error('step ' + k + ' of the address is not a step the model can take');
      }
      steps.push(step);
    }
    byId('error').hidden = true;
  } catch (error) {
    byId('error').textContent = String(error.message || error);
    byId('error').hidden = false;
  }
  if (steps.length === 0) {
    return;
  }
  const last = steps.length - 1;
  view = {
    indices: wanted.indices.slice(0, steps.length),
    steps,
    selected: Math.max(0, Math.min(last, last - wanted.offset)),
  };
  render();
}

function select(k) {
  if (k >= 0 && k < view.steps.length) {
    window.location.hash = address(view.indices, k);
  }
}

// Whether the state after step k of the path is the counterexample's state after step k.
function onTrace(k) {
  const path = page.trace ? page.trace.path : [];
  return k < path.length && view.indices.slice(0, k + 1).every((index, i) => index === path[i]);
}

function text(tag, content, className) {
  const element = document.createElement(tag);
  element.textContent = content;
  if (className) {
    element.className = className;
  }
  return element;
}

function badge(label, kind) {
  return text('span', label, 'badge ' + kind);
}

function link(href, content) {
  const a = text('a', content, 'code');
  a.href = href;
  return a;
}

function render() {
  renderTrace();
  renderDiagram();
  renderControls();
  renderPath();
  renderChoices();
  renderState();
  renderProperties(lastStatus);
}

function renderTrace() {
  const trace = page.trace;
  if (!trace) {
    return;
  }
  byId('trace').hidden = false;
  const steps = trace.summaries.length;
  const verdict = !trace.violated ? 'no longer violated along them'
    : trace.bound ? 'unknown: it stays unmet only because a bound is exhausted (' + trace.bound + ')'
      : 'violated';
  byId('trace-title').textContent = trace.file + ': ' + steps + ' steps; ' + trace.property
    + ' (' + trace.kind + ') ' + verdict
    + (trace.loop_start === null ? ''
      : trace.loop_start === steps ? '; its last state lasts forever'
        : '; its last ' + (steps - trace.loop_start) + ' steps repeat forever');
  byId('trace-explanation').textContent = trace.explanation || '';
  const left = !onTrace(Math.min(view.indices.length, trace.path.length) - 1);
  byId('off-trace').hidden = !left;
  byId('back-to-trace').href = trace.url;
}

// The counterexample's diagram, with the selected step's row highlighted while the path is on it.
function renderDiagram() {
  const trace = page.trace;
  if (!trace) {
    return;
  }
  const panel = byId('diagram');
  if (!panel.firstChild) {
    panel.innerHTML = trace.diagram;
    panel.classList.toggle('fit', trace.fit);
    byId('diagram-panel').hidden = false;
  }
  const highlight = panel.querySelector('rect.current-row');
  const k = view.selected;
  const row = k > 0 && onTrace(k) ? trace.rows[k - 1] : [0, 0];
  highlight.setAttribute('y', row[0]);
  highlight.setAttribute('height', row[1]);
  if (row[1] > 0) {
    highlight.scrollIntoView({ block: 'nearest' });
  }
}

function setLarge(on) {
  document.body.classList.toggle('large', on);
  byId('large').setAttribute('aria-pressed', on);
  try {
    localStorage.setItem('lockscope-large', on ? '1' : '0');
  } catch (error) {
    // A page without storage still switches.
  }
}

function renderControls() {
  const last = view.steps.length - 1;
  byId('previous').disabled = view.selected === 0;
  byId('next').disabled = view.selected === last;
  byId('position').textContent = view.selected === 0
    ? 'initial state (' + last + ' steps on the path)'
    : 'after step ' + view.selected + ' of ' + last;
}

function renderPath() {
  const list = byId('path');
  list.replaceChildren();
  view.steps.forEach((step, k) => {
    const item = document.createElement('li');
    item.appendChild(link(address(view.indices, k), k === 0 ? 'initial state' : step.action));
    if (k === view.selected) {
      item.className = 'selected';
    }
    if (k > 0 && onTrace(k)) {
      item.appendChild(text('span', page.trace.summaries[k - 1], 'summary'));
    }
    const loop = page.trace ? page.trace.loop_start : null;
    if (loop !== null && onTrace(k)) {
      if (k === loop) {
        item.appendChild(text('span', 'the cycle starts in this state', 'loop summary'));
      } else if (k === page.trace.path.length - 1) {
        item.appendChild(text('span', 'back in the state after step ' + loop
          + ': the cycle repeats forever', 'loop summary'));
      }
    }
    list.appendChild(item);
  });
}

async function renderChoices() {
  const list = byId('choices');
  const prefix = view.indices.slice(0, view.selected + 1);
  const selected = view.selected;
  let choices;
  try {
    choices = await fetchSteps(prefix);
  } catch (error) {
    list.replaceChildren(text('li', String(error.message || error), 'warning'));
    return;
  }
  if (selected !== view.selected) {
    return; // A newer selection renders its own choices.
  }
  list.replaceChildren();
  if (choices.length === 0) {
    list.appendChild(text('li', 'none: nothing can happen in this state'));
  }
  for (const choice of choices) {
    const item = document.createElement('li');
    if (choice.state === undefined) {
      item.appendChild(text('span', choice.action + ' (changes nothing)', 'ignored code'));
    } else if (view.indices[selected + 1] === choice.actionIndex) {
      item.appendChild(link(address(view.indices, selected + 1), choice.action));
      item.appendChild(text('span', ' (the next step on this path)', 'summary'));
    } else {
      item.appendChild(link(address(prefix.concat([choice.actionIndex]), prefix.length),
        choice.action));
    }
    list.appendChild(item);
  }
}

function renderState() {
  const k = view.selected;
  const step = view.steps[k];
  byId('state-title').textContent = k === 0 ? 'Initial state' : 'After step ' + k + ': ' + step.action;
  byId('step-summary').textContent = k > 0 && onTrace(k) ? page.trace.summaries[k - 1] : '';
  // The model draws the state in the narrative's words (its as_svg); without a drawing, its text.
  if (step.svg) {
    byId('state').innerHTML = step.svg;
  } else {
    byId('state').replaceChildren(text('pre', step.outcome || ''));
  }
}

// The properties with their status in words. Safety: what the Explorer's own search found (a
// counterexample, or none in the whole space once it is done). Liveness: the Explorer's search
// does not check it, so the page says where it is decided instead of passing it.
let lastStatus = null;

function renderProperties(status) {
  const list = byId('properties');
  list.replaceChildren();
  const discoveries = new Map();
  for (const [expectation, name, path] of (status ? status.properties : [])) {
    if (expectation === 'Always' && path) {
      discoveries.set(name, path);
    }
  }
  const trace = page.trace;
  for (const name of page.safety) {
    const item = document.createElement('li');
    if (trace && trace.property === name && trace.violated) {
      item.appendChild(badge('violated', 'violated'));
      item.appendChild(link(trace.url, name));
      item.appendChild(text('span', ' (safety): the opened counterexample', 'summary'));
    } else if (discoveries.has(name)) {
      item.appendChild(badge('violated', 'violated'));
      item.appendChild(link('#/steps/' + discoveries.get(name), name));
      item.appendChild(text('span', ' (safety): the Explorer found a counterexample; open it', 'summary'));
    } else if (status && status.done) {
      item.appendChild(badge('holds', 'holds'));
      item.appendChild(text('span', name, 'code'));
      item.appendChild(text('span', ' (safety): in every state the Explorer reached, its whole space', 'summary'));
    } else {
      item.appendChild(badge('open', 'open'));
      item.appendChild(text('span', name, 'code'));
      item.appendChild(text('span', ' (safety): not decided yet; "Run to completion" below searches, or run lockscope check', 'summary'));
    }
    list.appendChild(item);
  }
  for (const name of page.liveness) {
    const item = document.createElement('li');
    if (trace && trace.property === name && trace.violated) {
      const kind = trace.bound ? 'unknown' : 'violated';
      item.appendChild(badge(trace.bound ? 'bounded' : 'violated', kind));
      item.appendChild(link(trace.url, name));
      item.appendChild(text('span', ' (liveness): the opened counterexample'
        + (trace.bound ? ', stuck only because ' + trace.bound : ''), 'summary'));
    } else {
      item.appendChild(badge('liveness', 'open'));
      item.appendChild(text('span', name, 'code'));
      item.appendChild(text('span', ' (liveness): not decided here; checked by lockscope check', 'summary'));
    }
    list.appendChild(item);
  }
}

function renderStatus(status) {
  const list = byId('status');
  list.replaceChildren();
  const row = (label, value) => list.appendChild(text('li', label + ': ' + value));
  row('states', status.state_count.toLocaleString('en-US'));
  row('unique states', status.unique_state_count.toLocaleString('en-US'));
  row('deepest path', status.max_depth.toLocaleString('en-US'));
  row('progress', status.done ? 'done: every reachable state visited' : 'searching on request');
  byId('run').disabled = status.done;
}

async function refreshStatus() {
  try {
    const status = await (await fetch('/.status')).json();
    lastStatus = status;
    renderStatus(status);
    renderProperties(status);
    if (status.done) {
      return;
    }
  } catch (error) {
    byId('status').replaceChildren(text('li', 'status unavailable: ' + error, 'warning'));
  }
  setTimeout(refreshStatus, 3000);
}

function onKey(event) {
  if (event.target instanceof HTMLInputElement) {
    return;
  }
  switch (event.key) {
    case 'ArrowLeft':
    case 'ArrowUp':
    case 'k':
      select(view.selected - 1);
      break;
    case 'ArrowRight':
    case 'ArrowDown':
    case 'j':
      select(view.selected + 1);
      break;
    default:
      return;
  }
  event.preventDefault();
}

byId('scenario').textContent = page.scenario;
byId('description').textContent = page.description;
byId('previous').addEventListener('click', () => select(view.selected - 1));
byId('next').addEventListener('click', () => select(view.selected + 1));
byId('run').addEventListener('click', () => fetch('/.runtocompletion', { method: 'POST' }));
byId('large').addEventListener('click', () => setLarge(!document.body.classList.contains('large')));
// Large type as last chosen (the browser remembers it per server address).
try {
  if (localStorage.getItem('lockscope-large') === '1') {
    setLarge(true);
  }
} catch (error) {
  // No storage: normal type.
}
document.addEventListener('keydown', onKey);
window.addEventListener('hashchange', showAddress);
renderProperties(null);
showAddress();
refreshStatus();
