/**
 * The dashboard page's script (plain browser JavaScript, served as `/dashboard.js`). It draws with
 * the libraries the page loads from `/vendor/`: Mermaid renders each machine's diagram once, from
 * the text `toMermaid` made of its definition, and the current states are then marked on the
 * rendered nodes; Cytoscape.js lays out and draws the wait-for graph; Chart.js draws the charts.
 * It exposes what it draws as `window.mezanDashboard`, for debugging and for the browser test.
 *
 * Written without template literals, so that it can live in this TypeScript string.
 * @internal
 */
export const DASHBOARD_SCRIPT = String.raw`(function () {
  'use strict';

  var MAX_EVENTS = 2000;
  var MAX_ROWS = 400;
  var MAX_POINTS = 1200;
  var MAX_GRAPH_NODES = 400;

  var dashboard = {
    state: null,
    machines: null,
    events: [],
    lastSeq: 0,
    updates: 0,
    selected: null,
    diagramsReady: false,
    cy: null,
    charts: {},
    diagramNodes: {},
    /** Task names by id, read from the events (the graph has ids only). */
    names: {},
    errors: []
  };
  window.mezanDashboard = dashboard;

  function $(selector) { return document.querySelector(selector); }
  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function fail(where, error) {
    var text = where + ': ' + (error && error.message ? error.message : String(error));
    dashboard.errors.push(text);
    if (window.console) console.error(text);
  }
  function ms(value) { return (Math.round(value * 10) / 10).toLocaleString('en-US'); }
  /** A time of the engine's, relative to when the dashboard began to watch it. */
  function sinceOrigin(at) { return ms(at - ((dashboard.state && dashboard.state.origin) || 0)); }

  // ---- machine diagrams (Mermaid) ----

  function escapeRegExp(text) { return text.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&'); }

  async function renderMachines(views) {
    var container = $('#machines');
    window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'neutral', flowchart: { htmlLabels: false } });
    for (var i = 0; i < views.length; i++) {
      var view = views[i];
      var card = make('div', 'machine');
      card.id = 'machine-' + view.name;
      card.dataset.machine = view.name;
      card.appendChild(make('h3', null, view.name));
      var occupants = make('div', 'occupants', '');
      card.appendChild(occupants);
      var diagram = make('div', 'diagram');
      card.appendChild(diagram);
      container.appendChild(card);
      var renderId = 'mezan-' + view.name;
      try {
        var rendered = await window.mermaid.render(renderId, view.mermaid);
        diagram.innerHTML = rendered.svg;
      } catch (error) {
        fail('mermaid ' + view.name, error);
        diagram.textContent = view.mermaid;
        continue;
      }
      var nodes = {};
      var groups = diagram.querySelectorAll('g.node[id]');
      Object.keys(view.states).forEach(function (value) {
        var state = view.states[value];
        var pattern = new RegExp('^' + escapeRegExp(renderId) + '-state-' + escapeRegExp(state.diagramId) + '-\\d+$');
        for (var g = 0; g < groups.length; g++) {
          if (pattern.test(groups[g].id)) {
            groups[g].dataset.stateId = state.id;
            nodes[state.diagramId] = groups[g];
          }
        }
      });
      dashboard.diagramNodes[view.name] = nodes;
    }
    dashboard.diagramsReady = true;
    highlightStates();
  }

  function highlightStates() {
    var state = dashboard.state;
    if (!state || !dashboard.machines) return;
    dashboard.machines.forEach(function (view) {
      var occupied = {};
      var lines = [];
      state.actors.forEach(function (actor) {
        if (actor.machine !== view.name) return;
        lines.push(actor.id + ': ' + actor.state);
        if (actor.diagramId) occupied[actor.diagramId] = (occupied[actor.diagramId] || 0) + 1;
      });
      var card = document.getElementById('machine-' + view.name);
      if (card) card.querySelector('.occupants').textContent = lines.join(' · ');
      var nodes = dashboard.diagramNodes[view.name] || {};
      var selected = dashboard.selected && state.actors.filter(function (a) { return a.id === dashboard.selected; })[0];
      Object.keys(nodes).forEach(function (diagramId) {
        var node = nodes[diagramId];
        var count = occupied[diagramId] || 0;
        node.classList.toggle('is-current', count > 0);
        node.classList.toggle('is-selected', !!selected && selected.machine === view.name && selected.diagramId === diagramId);
        node.dataset.actors = String(count);
      });
    });
  }

  // ---- actor tree ----

  function renderActors(actors) {
    var tree = $('#actor-tree');
    var children = {};
    actors.forEach(function (actor) {
      var parent = actor.parent || '';
      (children[parent] = children[parent] || []).push(actor);
    });
    function branch(parent) {
      var list = children[parent] || [];
      var ul = make('ul');
      list.forEach(function (actor) {
        var li = make('li');
        var row = make('div', 'actor' + (dashboard.selected === actor.id ? ' selected' : ''));
        row.dataset.actorId = actor.id;
        row.dataset.machine = actor.machine;
        row.dataset.state = actor.state;
        row.appendChild(make('span', 'name', actor.id));
        var badge = make('span', 'badge', actor.state);
        badge.dataset.state = actor.state;
        row.appendChild(badge);
        row.addEventListener('click', function () {
          dashboard.selected = dashboard.selected === actor.id ? null : actor.id;
          renderActors(dashboard.state.actors);
          highlightStates();
          var card = document.getElementById('machine-' + actor.machine);
          if (card && card.scrollIntoView) card.scrollIntoView({ block: 'nearest' });
        });
        li.appendChild(row);
        if (children[actor.id]) li.appendChild(branch(actor.id));
        ul.appendChild(li);
      });
      return ul;
    }
    var built = branch('');
    tree.replaceChildren.apply(tree, Array.prototype.slice.call(built.childNodes));
  }

  // ---- wait-for graph (Cytoscape.js) ----

  function graphStyle() {
    return [
      { selector: 'node', style: { label: 'data(label)', 'font-size': 10, 'text-valign': 'center', 'text-halign': 'center', 'text-wrap': 'wrap', color: '#111', 'border-width': 1, 'border-color': '#555' } },
      { selector: 'node[kind = "task"]', style: { shape: 'ellipse', 'background-color': '#bbdefb', width: 70, height: 34 } },
      { selector: 'node[kind = "resource"]', style: { shape: 'round-rectangle', 'background-color': '#dcedc8', width: 78, height: 34 } },
      { selector: 'edge', style: { width: 2, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'arrow-scale': 0.9, label: 'data(label)', 'font-size': 9, 'text-background-color': '#fff', 'text-background-opacity': 0.8 } },
      { selector: 'edge[kind = "holds"]', style: { 'line-color': '#43a047', 'target-arrow-color': '#43a047' } },
      { selector: 'edge[kind = "requests"]', style: { 'line-color': '#fb8c00', 'target-arrow-color': '#fb8c00', 'line-style': 'dashed' } },
      { selector: 'edge[kind = "awaits"]', style: { 'line-color': '#1e88e5', 'target-arrow-color': '#1e88e5', 'line-style': 'dotted' } },
      { selector: 'edge[kind = "ahead"]', style: { 'line-color': '#999', 'target-arrow-color': '#999', 'line-style': 'dashed' } },
      { selector: '.stale', style: { opacity: 0.55 } },
      { selector: 'node.cycle', style: { 'border-width': 4, 'border-color': '#e53935' } },
      { selector: 'edge.cycle', style: { width: 4, 'line-color': '#e53935', 'target-arrow-color': '#e53935' } },
      { selector: 'node.victim', style: { 'background-color': '#8e0000', color: '#fff', 'border-color': '#e53935', 'border-width': 5, 'font-weight': 'bold', opacity: 1 } }
    ];
  }

  function ensureGraph() {
    if (dashboard.cy || !window.cytoscape) return dashboard.cy;
    dashboard.cy = window.cytoscape({ container: $('#wait-for-graph'), style: graphStyle(), elements: [], minZoom: 0.2, maxZoom: 3 });
    return dashboard.cy;
  }

  function edgeId(from, to, kind) { return from + ' -> ' + to + ' : ' + kind; }

  /** The live graph, with the latest deadlock's cycle drawn over it (from the graph at its detection). */
  function graphElements(state) {
    var nodes = {};
    var edges = {};
    var order = [];
    function addNode(node, stale) {
      if (nodes[node.id]) return;
      if (order.length >= MAX_GRAPH_NODES) return;
      var name = dashboard.names[node.id];
      var label = name && name !== node.id ? name + '\n' + node.id : node.id;
      if (node.kind === 'resource') label = node.id + '\n(' + node.capacity + ')';
      nodes[node.id] = { data: { id: node.id, kind: node.kind, label: label, capacity: node.capacity }, classes: stale ? ['stale'] : [] };
      order.push(node.id);
    }
    function addEdge(edge, stale) {
      if (!nodes[edge.from] || !nodes[edge.to]) return;
      var id = edgeId(edge.from, edge.to, edge.kind);
      if (edges[id]) return edges[id];
      var label = edge.units !== undefined && edge.units !== 1 ? String(edge.units) : '';
      edges[id] = { data: { id: id, source: edge.from, target: edge.to, kind: edge.kind, label: label }, classes: stale ? ['stale'] : [] };
      return edges[id];
    }
    state.graph.nodes.forEach(function (node) { addNode(node, false); });
    state.graph.edges.forEach(function (edge) { addEdge(edge, false); });
    var deadlock = state.deadlocks.last;
    if (deadlock) {
      var captured = {};
      deadlock.graph.nodes.forEach(function (node) { captured[node.id] = node; });
      deadlock.cycle.forEach(function (id) {
        if (!nodes[id]) addNode(captured[id] || { id: id, kind: 'task' }, true);
        if (nodes[id]) nodes[id].classes.push('cycle');
      });
      for (var i = 0; i + 1 < deadlock.cycle.length; i++) {
        var from = deadlock.cycle[i];
        var to = deadlock.cycle[i + 1];
        // The step's own edge, in either direction (holds go resource → holder); a FIFO "ahead" step has none.
        var found = deadlock.graph.edges.filter(function (e) { return (e.from === from && e.to === to) || (e.from === to && e.to === from); })[0];
        var drawn = addEdge(found || { from: from, to: to, kind: 'ahead' }, !found || !edges[edgeId(found.from, found.to, found.kind)]);
        if (drawn && drawn.classes.indexOf('cycle') < 0) drawn.classes.push('cycle');
      }
      if (deadlock.victim && nodes[deadlock.victim]) nodes[deadlock.victim].classes.push('victim');
    }
    return { nodes: nodes, edges: edges };
  }

  function renderGraph(state) {
    var cy = ensureGraph();
    if (!cy) return;
    var wanted = graphElements(state);
    var added = false;
    cy.batch(function () {
      cy.elements().forEach(function (element) {
        var id = element.id();
        if (!(element.isNode() ? wanted.nodes[id] : wanted.edges[id])) cy.remove(element);
      });
      function sync(definition, group) {
        var existing = cy.getElementById(definition.data.id);
        if (existing.empty()) {
          cy.add({ group: group, data: definition.data, classes: definition.classes });
          added = true;
        } else {
          existing.data(definition.data);
          existing.classes(definition.classes);
        }
      }
      Object.keys(wanted.nodes).forEach(function (id) { sync(wanted.nodes[id], 'nodes'); });
      Object.keys(wanted.edges).forEach(function (id) { sync(wanted.edges[id], 'edges'); });
    });
    if (added) cy.layout({ name: 'cose', animate: false, fit: true, padding: 24, nodeDimensionsIncludeLabels: true, randomize: false, idealEdgeLength: 80 }).run();
    renderDeadlockSummary(state.deadlocks);
  }

  function renderDeadlockSummary(deadlocks) {
    var summary = $('#deadlock-summary');
    var last = deadlocks.last;
    if (!last) {
      summary.dataset.deadlock = 'none';
      summary.textContent = 'No deadlock so far.';
      return;
    }
    summary.dataset.deadlock = 'found';
    summary.dataset.victim = last.victim || '';
    summary.replaceChildren();
    summary.appendChild(make('span', null, 'Deadlock at t = ' + sinceOrigin(last.at) + ' ms: '));
    last.cycle.forEach(function (id, index) {
      if (index > 0) summary.appendChild(document.createTextNode(' → '));
      var span = make('span', 'cycle-node' + (id === last.victim ? ' victim' : ''), id);
      span.dataset.node = id;
      summary.appendChild(span);
    });
    var how = last.resolution === 'victim' ? ' — victim ' + last.victim + ' (' + last.policy + ')'
      : last.resolution === 'compensation' ? ' — resolved by an extra worker slot' : ' — resolving…';
    summary.appendChild(document.createTextNode(how));
    if (deadlocks.detected > 1) summary.appendChild(document.createTextNode(' · ' + deadlocks.detected + ' found in all'));
  }

  // ---- charts (Chart.js) ----

  var PALETTE = ['#1e88e5', '#fb8c00', '#43a047', '#e53935', '#8e24aa', '#00897b', '#6d4c41', '#3949ab', '#c0ca33', '#546e7a'];

  function lineChart(canvasId, title, series, percent) {
    var datasets = series.map(function (name, index) {
      return { label: name, data: [], borderColor: PALETTE[index % PALETTE.length], backgroundColor: PALETTE[index % PALETTE.length], pointRadius: 0, borderWidth: 1.5, stepped: true };
    });
    return new window.Chart(document.getElementById(canvasId), {
      type: 'line',
      data: { datasets: datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: false, normalized: true,
        plugins: { title: { display: true, text: title }, legend: { labels: { boxWidth: 10, font: { size: 10 } } } },
        scales: {
          x: { type: 'linear', title: { display: true, text: 'engine time (ms)' }, ticks: { maxTicksLimit: 6 } },
          y: percent ? { min: 0, max: 100, ticks: { callback: function (v) { return v + '%'; } } } : { beginAtZero: true, ticks: { precision: 0 } }
        }
      }
    });
  }

  function ensureCharts() {
    if (dashboard.charts.tasks || !window.Chart) return;
    dashboard.charts.tasks = lineChart('chart-tasks', 'Tasks now', ['pending', 'running']);
    dashboard.charts.settled = lineChart('chart-settled', 'Tasks settled', ['completed', 'failed', 'deadlocked', 'timedOut', 'cancelled', 'rejected']);
    dashboard.charts.utilization = lineChart('chart-utilization', 'Utilization (held / capacity)', [], true);
  }

  function pushPoints(chart, sample, pick) {
    chart.data.datasets.forEach(function (dataset) {
      var value = pick(sample, dataset.label);
      if (value === undefined) return;
      dataset.data.push({ x: sample.at - ((dashboard.state && dashboard.state.origin) || 0), y: value });
      if (dataset.data.length > MAX_POINTS) dataset.data.splice(0, dataset.data.length - MAX_POINTS);
    });
  }

  function addSamples(samples, reset) {
    ensureCharts();
    var charts = dashboard.charts;
    if (!charts.tasks) return;
    if (reset) [charts.tasks, charts.settled, charts.utilization].forEach(function (chart) { chart.data.datasets.forEach(function (d) { d.data = []; }); });
    samples.forEach(function (sample) {
      Object.keys(sample.utilization).forEach(function (resource) {
        var known = charts.utilization.data.datasets.some(function (d) { return d.label === resource; });
        if (!known) {
          var color = PALETTE[charts.utilization.data.datasets.length % PALETTE.length];
          charts.utilization.data.datasets.push({ label: resource, data: [], borderColor: color, backgroundColor: color, pointRadius: 0, borderWidth: 1.5, stepped: true });
        }
      });
      pushPoints(charts.tasks, sample, function (s, key) { return s[key]; });
      pushPoints(charts.settled, sample, function (s, key) { return s[key]; });
      pushPoints(charts.utilization, sample, function (s, key) { return s.utilization[key] === undefined ? undefined : s.utilization[key] * 100; });
    });
    if (samples.length > 0 || reset) [charts.tasks, charts.settled, charts.utilization].forEach(function (chart) { chart.update('none'); });
  }

  function renderMetrics(metrics) {
    var details = $('#metrics-details');
    var body = $('#metrics-table tbody');
    if (metrics === undefined || metrics === null) {
      details.dataset.available = 'false';
      body.replaceChildren(rowOf('engine.metrics()', 'not available on this engine: the charts read progress() and stats()'));
      return;
    }
    details.dataset.available = 'true';
    var rows = [];
    (function walk(value, path, depth) {
      if (rows.length >= 300) return;
      if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') rows.push(rowOf(path, typeof value === 'number' ? ms(value) : String(value)));
      else if (value && typeof value === 'object' && depth < 5) Object.keys(value).forEach(function (key) { walk(value[key], path ? path + '.' + key : key, depth + 1); });
    })(metrics, '', 0);
    body.replaceChildren.apply(body, rows);
  }

  function rowOf(key, value) {
    var tr = make('tr');
    tr.appendChild(make('td', null, key));
    tr.appendChild(make('td', null, value));
    return tr;
  }

  // ---- alerts ----

  function renderAlerts(alerts) {
    var list = $('#alerts');
    if (alerts.recent.length === 0) {
      list.replaceChildren(make('li', 'none', 'No alert.'));
      return;
    }
    list.replaceChildren.apply(list, alerts.recent.map(function (alert) {
      var li = make('li', alert.severity + (alert.clearedAt !== undefined ? ' cleared' : ' active'));
      li.dataset.alert = alert.key;
      var when = 't = ' + sinceOrigin(alert.raisedAt) + ' ms' + (alert.clearedAt !== undefined ? ', cleared at ' + sinceOrigin(alert.clearedAt) + ' ms' : '');
      li.appendChild(make('strong', null, alert.severity + ' '));
      li.appendChild(document.createTextNode(alert.message + ' (' + when + ')'));
      return li;
    }));
  }

  // ---- event log ----

  var SUMMARY_SKIP = { seq: 1, type: 1, at: 1 };

  function summarize(event) {
    return Object.keys(event).filter(function (key) { return !SUMMARY_SKIP[key]; }).map(function (key) {
      var value = event[key];
      if (value && typeof value === 'object') value = JSON.stringify(value);
      return key + '=' + value;
    }).join(' ');
  }

  function renderLog() {
    if ($('#log-pause').checked) return;
    var text = $('#log-filter').value.trim().toLowerCase();
    var kind = $('#log-kind').value;
    var rows = [];
    var matched = 0;
    for (var i = dashboard.events.length - 1; i >= 0; i--) {
      var event = dashboard.events[i];
      if (kind && event.type.indexOf(kind) !== 0) continue;
      var summary = summarize(event);
      if (text && (event.type + ' ' + summary).toLowerCase().indexOf(text) < 0) continue;
      matched++;
      if (rows.length >= MAX_ROWS) continue;
      var tr = make('tr', event.type.split('.')[0]);
      tr.dataset.type = event.type;
      tr.dataset.seq = String(event.seq);
      tr.appendChild(make('td', 'at', sinceOrigin(event.at)));
      tr.appendChild(make('td', 'type', event.type));
      tr.appendChild(make('td', 'details', summary));
      rows.push(tr);
    }
    var body = $('#log tbody');
    body.replaceChildren.apply(body, rows);
    $('#log-count').textContent = matched + ' of ' + dashboard.events.length + ' kept events' + (matched > MAX_ROWS ? ' (latest ' + MAX_ROWS + ' shown)' : '');
  }

  function addEvents(events, reset) {
    if (reset) { dashboard.events = []; dashboard.lastSeq = 0; dashboard.names = {}; }
    events.forEach(function (event) {
      if (event.seq <= dashboard.lastSeq) return;
      dashboard.lastSeq = event.seq;
      dashboard.events.push(event);
      if (event.taskId && event.name) dashboard.names[event.taskId] = event.name;
    });
    if (dashboard.events.length > MAX_EVENTS) dashboard.events.splice(0, dashboard.events.length - MAX_EVENTS);
  }

  // ---- the whole page ----

  function renderCounters(state) {
    var values = {
      total: state.progress.total, pending: state.progress.pending, running: state.progress.running,
      completed: state.progress.completed, failed: state.progress.failed, deadlocked: state.progress.deadlocked,
      timedOut: state.progress.timedOut, cancelled: state.progress.cancelled, rejected: state.progress.rejected,
      deadlocks: state.deadlocks.detected, events: state.events
    };
    Object.keys(values).forEach(function (key) {
      var node = document.querySelector('[data-counter="' + key + '"]');
      if (node) { node.textContent = values[key].toLocaleString('en-US'); node.dataset.value = String(values[key]); }
    });
    $('#clock').textContent = 't = ' + sinceOrigin(state.at) + ' ms';
    $('#engine-id').textContent = state.engineId || '';
    var shutdown = state.actors.filter(function (a) { return a.id === 'shutdown'; })[0];
    $('#engine-phase').textContent = shutdown && shutdown.state !== 'running' ? 'shutdown: ' + shutdown.state : (state.accepting ? '' : 'not accepting');
    dashboard.stopped = !!shutdown && shutdown.state === 'stopped';
    if (dashboard.stopped) showConnection('stopped', 'the engine has stopped: nothing more will come');
  }

  /** The badge: 'live', 'reconnecting…', or 'stopped' once the engine stopped (whatever the stream does). */
  function showConnection(connected, text) {
    var connection = $('#connection');
    if (dashboard.stopped && connected !== 'stopped') return;
    connection.dataset.connected = connected;
    connection.textContent = connected === 'stopped' ? 'stopped' : text;
    connection.title = text;
  }

  function apply(message, reset) {
    dashboard.state = message.state;
    dashboard.updates++;
    addEvents(message.events, reset);
    var steps = [
      ['counters', function () { renderCounters(message.state); }],
      ['actors', function () { renderActors(message.state.actors); }],
      ['states', highlightStates],
      ['graph', function () { renderGraph(message.state); }],
      ['charts', function () { addSamples(message.samples, reset); }],
      ['metrics', function () { renderMetrics(message.state.metrics); }],
      ['alerts', function () { renderAlerts(message.state.alerts); }],
      ['log', renderLog]
    ];
    steps.forEach(function (step) { try { step[1](); } catch (error) { fail(step[0], error); } });
  }

  function connect() {
    var source = new EventSource('/events');
    source.addEventListener('snapshot', function (event) {
      showConnection('true', 'live');
      apply(JSON.parse(event.data), true);
    });
    source.addEventListener('update', function (event) { apply(JSON.parse(event.data), false); });
    source.addEventListener('error', function () { showConnection('false', 'reconnecting…'); });
    dashboard.source = source;
  }

  ['#log-filter', '#log-kind', '#log-pause'].forEach(function (selector) {
    $(selector).addEventListener('input', renderLog);
    $(selector).addEventListener('change', renderLog);
  });

  // The first paint comes from /state, before the stream connects (a one-shot screenshot shows it).
  fetch('/state').then(function (response) { return response.json(); }).then(function (state) {
    if (dashboard.updates === 0) apply({ state: state, events: [], samples: [] }, true);
  }).catch(function (error) { fail('state', error); });

  fetch('/machines').then(function (response) { return response.json(); }).then(function (views) {
    dashboard.machines = views;
    connect();
    return renderMachines(views);
  }).catch(function (error) { fail('machines', error); });
})();
`;
