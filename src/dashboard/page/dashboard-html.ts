/**
 * The dashboard's page. It loads its script (with its drawing libraries bundled in) and its styles
 * from the server: nothing from the network.
 * @internal
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mezan dashboard</title>
<link rel="stylesheet" href="/dashboard.css">
</head>
<body>
<header>
  <h1>mezan <span id="engine-id"></span></h1>
  <span id="clock" title="engine time">t = 0 ms</span>
  <span id="engine-phase"></span>
  <span id="connection" data-connected="false">connecting…</span>
  <div id="counters">
    <div class="counter"><span class="value" data-counter="total">0</span><span class="label">submitted</span></div>
    <div class="counter"><span class="value" data-counter="pending">0</span><span class="label">pending</span></div>
    <div class="counter"><span class="value" data-counter="running">0</span><span class="label">running</span></div>
    <div class="counter ok"><span class="value" data-counter="completed">0</span><span class="label">completed</span></div>
    <div class="counter bad"><span class="value" data-counter="failed">0</span><span class="label">failed</span></div>
    <div class="counter bad"><span class="value" data-counter="deadlocked">0</span><span class="label">deadlock</span></div>
    <div class="counter"><span class="value" data-counter="timedOut">0</span><span class="label">timeout</span></div>
    <div class="counter"><span class="value" data-counter="cancelled">0</span><span class="label">cancelled</span></div>
    <div class="counter"><span class="value" data-counter="rejected">0</span><span class="label">rejected</span></div>
    <div class="counter bad"><span class="value" data-counter="deadlocks">0</span><span class="label">deadlocks found</span></div>
    <div class="counter"><span class="value" data-counter="events">0</span><span class="label">events</span></div>
  </div>
</header>
<main>
  <section id="actors-panel">
    <h2>Actors</h2>
    <ul id="actor-tree" class="tree"></ul>
    <p class="hint">Click an actor to find it on its machine.</p>
  </section>
  <section id="graph-panel">
    <h2>Wait-for graph</h2>
    <div id="deadlock-summary" data-deadlock="none">No deadlock so far.</div>
    <div id="wait-for-graph"></div>
    <div class="legend">
      <span class="key holds">holds</span><span class="key requests">requests</span><span class="key awaits">awaits</span>
      <span class="key cycle">deadlock cycle</span><span class="key victim">victim</span>
    </div>
  </section>
  <section id="machines-panel">
    <h2>Machines</h2>
    <div id="machines"></div>
  </section>
  <section id="charts-panel">
    <h2>Metrics</h2>
    <div class="chart"><canvas id="chart-tasks"></canvas></div>
    <div class="chart"><canvas id="chart-settled"></canvas></div>
    <div class="chart"><canvas id="chart-utilization"></canvas></div>
    <details id="metrics-details"><summary>engine.metrics()</summary><table id="metrics-table"><tbody></tbody></table></details>
  </section>
  <section id="alerts-panel">
    <h2>Alerts</h2>
    <ul id="alerts"><li class="none">No alert.</li></ul>
  </section>
  <section id="cluster-panel" hidden>
    <h2>Cluster</h2>
    <div id="cluster-summary">Reading the cluster…</div>
    <div class="cluster-tables">
      <table id="cluster-nodes">
        <thead><tr><th>node</th><th>process</th><th>phase</th><th>up</th><th>heartbeat</th><th>cluster tasks at once</th><th>workers at heartbeat (running/slots)</th><th>defines</th><th>running now</th></tr></thead>
        <tbody></tbody>
      </table>
      <table id="cluster-pools">
        <thead><tr><th>cluster pool</th><th>capacity</th><th>held</th><th>holders (node/task)</th><th>waiters (node/task)</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <div id="cluster-graph"></div>
    <div class="legend">
      <span class="key holds">holds</span><span class="key requests">requests</span><span class="key awaits">awaits</span>
      <span class="key cross">between nodes</span><span class="key box">a node and its tasks</span>
    </div>
  </section>
  <section id="log-panel">
    <h2>Events</h2>
    <div class="log-controls">
      <input id="log-filter" type="search" placeholder="filter: text in the type, ids or fields">
      <select id="log-kind">
        <option value="">all kinds</option>
        <option value="task.">task</option>
        <option value="resource.">resource</option>
        <option value="deadlock.">deadlock</option>
        <option value="lockorder.">lock order</option>
        <option value="worker.">worker</option>
        <option value="alert.">alert</option>
        <option value="shutdown.">shutdown</option>
        <option value="engine.">engine</option>
      </select>
      <label><input id="log-pause" type="checkbox"> pause</label>
      <span id="log-count"></span>
    </div>
    <div class="log-scroll"><table id="log"><thead><tr><th>t (ms)</th><th>type</th><th>details</th></tr></thead><tbody></tbody></table></div>
  </section>
</main>
<script src="/dashboard.js"></script>
</body>
</html>
`;
