/** The dashboard page's styles. @internal */
export const DASHBOARD_STYLES = `
:root { --bg: #f5f6f8; --panel: #fff; --ink: #1d2330; --muted: #6b7280; --line: #e3e6eb;
  --ok: #2e7d32; --bad: #c62828; --warn: #ef6c00; --current: #ffd54f; --cycle: #e53935; --victim: #8e0000; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--ink); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; padding: 8px 16px; background: #1d2330; color: #fff; }
header h1 { font-size: 18px; margin: 0; }
#engine-id { font-size: 12px; font-weight: normal; color: #aab; }
#clock { font-variant-numeric: tabular-nums; }
#connection { padding: 1px 8px; border-radius: 10px; background: #7a2; font-size: 12px; }
#connection[data-connected="false"] { background: #a33; }
#connection[data-connected="stopped"] { background: #555; }
#engine-phase { font-size: 12px; color: #fc6; }
#counters { display: flex; flex-wrap: wrap; gap: 6px; margin-left: auto; }
.counter { display: flex; flex-direction: column; align-items: center; min-width: 64px; padding: 2px 8px; background: #2b3345; border-radius: 6px; }
.counter .value { font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
.counter .label { font-size: 10px; color: #bcc; text-transform: uppercase; letter-spacing: .03em; }
.counter.ok .value { color: #8f8; } .counter.bad .value { color: #f99; }
main { display: grid; gap: 12px; padding: 12px; grid-template-columns: 250px minmax(360px, 1fr) minmax(360px, 1fr);
  grid-template-areas: "actors graph machines" "alerts charts machines" "cluster cluster cluster" "log log log"; }
[hidden] { display: none !important; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; min-width: 0; }
section h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 0 0 6px; }
#actors-panel { grid-area: actors; } #graph-panel { grid-area: graph; } #machines-panel { grid-area: machines; max-height: 1100px; overflow: auto; }
#charts-panel { grid-area: charts; } #alerts-panel { grid-area: alerts; } #log-panel { grid-area: log; } #cluster-panel { grid-area: cluster; }
.tree, .tree ul { list-style: none; margin: 0; padding-left: 14px; } .tree { padding-left: 0; }
.tree li { margin: 2px 0; }
.actor { display: flex; justify-content: space-between; gap: 6px; padding: 1px 6px; border-radius: 4px; cursor: pointer; }
.actor:hover { background: #eef2ff; } .actor.selected { background: #e0e7ff; outline: 1px solid #6366f1; }
.badge { padding: 0 6px; border-radius: 8px; font-size: 11px; background: #e5e7eb; }
.mailbox { margin-left: auto; font-size: 11px; color: #6a1b9a; font-variant-numeric: tabular-nums; }
.badge[data-state="busy"], .badge[data-state="working"], .badge[data-state="exhausted"] { background: #fde68a; }
.badge[data-state="contended"], .badge[data-state="crashed"] { background: #fecaca; }
.badge[data-state="draining"], .badge[data-state="terminating"] { background: #fed7aa; }
.badge[data-state="stopped"] { background: #d1d5db; color: #555; }
.hint { color: var(--muted); font-size: 11px; margin: 6px 0 0; }
#wait-for-graph { height: 360px; border: 1px solid var(--line); border-radius: 6px; }
#deadlock-summary { margin-bottom: 6px; min-height: 1.4em; }
#deadlock-summary[data-deadlock="found"] { color: var(--bad); }
#deadlock-summary .cycle-node { font-weight: 600; color: var(--cycle); }
#deadlock-summary .victim { font-weight: 700; color: #fff; background: var(--victim); padding: 0 4px; border-radius: 3px; }
.legend { display: flex; gap: 12px; margin-top: 4px; font-size: 11px; color: var(--muted); }
.legend .key::before { content: ""; display: inline-block; width: 18px; height: 0; margin-right: 4px; vertical-align: middle; border-top: 2px solid; }
.legend .holds::before { border-color: #43a047; } .legend .requests::before { border-color: #fb8c00; border-top-style: dashed; }
.legend .awaits::before { border-color: #1e88e5; border-top-style: dotted; } .legend .cycle::before { border-color: var(--cycle); border-top-width: 4px; }
.legend .victim::before { border-color: var(--victim); border-top-width: 8px; width: 8px; }
.machine { border-top: 1px solid var(--line); padding-top: 6px; margin-top: 6px; }
.machine:first-child { border-top: 0; margin-top: 0; }
.machine h3 { margin: 0; font-size: 13px; }
.machine .occupants { font-size: 11px; color: var(--muted); margin: 2px 0 4px; }
.machine .diagram svg { max-width: 100%; height: auto; }
.machine .diagram g.node.is-current :is(path, polygon, ellipse) { fill: var(--current); stroke: #b8860b; stroke-width: 2px; }
.machine .diagram g.node.is-selected :is(path, polygon, ellipse) { stroke: #4338ca; stroke-width: 4px; }
.chart { position: relative; height: 150px; margin-bottom: 6px; }
#metrics-table { border-collapse: collapse; font-size: 11px; } #metrics-table td { padding: 1px 8px 1px 0; }
#alerts { list-style: none; margin: 0; padding: 0; max-height: 220px; overflow: auto; }
#alerts li { padding: 3px 6px; margin-bottom: 3px; border-left: 4px solid var(--warn); background: #fff7ed; border-radius: 3px; }
#alerts li.critical { border-color: var(--bad); background: #fef2f2; }
#alerts li.cleared { opacity: .55; }
#alerts li.none { border: 0; background: none; color: var(--muted); }
.log-controls { display: flex; gap: 8px; align-items: center; margin-bottom: 6px; }
#log-filter { flex: 1; max-width: 420px; padding: 3px 6px; }
#log-count { color: var(--muted); font-size: 11px; }
.log-scroll { max-height: 320px; overflow: auto; }
#log { width: 100%; border-collapse: collapse; font: 12px/1.3 ui-monospace, SFMono-Regular, Menlo, monospace; }
#log th { position: sticky; top: 0; background: #fff; text-align: left; border-bottom: 1px solid var(--line); }
#log td { padding: 1px 8px 1px 0; border-bottom: 1px solid #f1f2f4; vertical-align: top; white-space: nowrap; }
#log td.details { white-space: normal; word-break: break-word; color: #374151; }
#log tr.deadlock td.type, #log tr.alert td.type { color: var(--bad); font-weight: 600; }
#log tr.task td.type { color: #1d4ed8; } #log tr.resource td.type { color: #047857; }
#cluster-summary { margin-bottom: 6px; } #cluster-panel[data-error="true"] #cluster-summary, .cluster-error { color: var(--bad); }
.cluster-tables { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 12px; align-items: start; }
.cluster-tables table { width: 100%; border-collapse: collapse; font-size: 12px; }
.cluster-tables th { text-align: left; color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); padding: 2px 8px 2px 0; }
.cluster-tables td { padding: 2px 8px 2px 0; border-bottom: 1px solid #f1f2f4; vertical-align: top; }
.cluster-tables td.number { font-variant-numeric: tabular-nums; white-space: nowrap; }
.cluster-tables tr.self td.node-name { font-weight: 700; } .self-mark { color: var(--muted); font-weight: normal; }
.cluster-tables .warn { color: var(--warn); } .cluster-tables tr.none td { color: var(--muted); }
#cluster-graph { height: 320px; border: 1px solid var(--line); border-radius: 6px; margin-top: 8px; }
.legend .cross::before { border-color: #555; border-top-width: 4px; }
.legend .box::before { border: 1px dashed #607d8b; height: 10px; width: 14px; }
`;
