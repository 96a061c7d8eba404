/**
 * The report's inline script and style. The script builds the page from the embedded JSON with
 * textContent and setAttribute only (never innerHTML), so nothing from a run can become markup.
 * Written as plain ES5-style JavaScript in a string: it runs in the browser, not in Node.
 */
export const REPORT_STYLE = `
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
header { background: #1d2330; color: #fff; padding: 16px 24px; }
header h1 { margin: 0 0 6px; font-size: 20px; font-weight: 600; }
header .meta { color: #c6cbd6; font-size: 13px; }
header code { color: #fff; }
main { padding: 8px 24px 40px; }
section { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; margin: 16px 0; padding: 12px 16px; }
h2 { font-size: 16px; margin: 4px 0 10px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; margin-left: 8px; vertical-align: 2px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; }
th { color: #5b6475; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #1d2330; color: #f1f1f1; padding: 8px 10px; border-radius: 6px; overflow-x: auto; font-size: 12px; margin: 6px 0; }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
.legend i { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
.scroll { overflow-x: auto; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.muted { color: #7a8396; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
dl.kv dt { color: #5b6475; }
dl.kv dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; white-space: pre-wrap; word-break: break-word; }
`;

export const REPORT_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('run-data').textContent);
  var SVG = 'http://www.w3.org/2000/svg';
  var COLORS = { ok: '#2e9e44', changed: '#d99a00', failed: '#d23b3b', unreachable: '#7d1a1a', skipped: '#4aa3c7',
    ignored: '#a05ec2', 'in flight': '#8a8f99', 'not run': '#d5d9e0', restored: '#9cc7a3', interrupted: '#d99a00',
    incomplete: '#d99a00', running: '#4aa3c7' };
  var ORDER = ['failed', 'unreachable', 'in flight', 'changed', 'ok', 'ignored', 'skipped', 'restored', 'not run'];

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function sv(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function titled(node, text) { node.appendChild(sv('title', null, text)); return node; }
  function secs(ms) {
    if (ms === undefined || ms === null) return '';
    if (ms < 1000) return ms + 'ms';
    if (ms < 60000) return (ms / 1000).toFixed(1) + 's';
    return Math.floor(ms / 60000) + 'm' + Math.round((ms % 60000) / 1000) + 's';
  }
  function short(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + '…' : s; }
  function statusOf(t) { return t.restored ? 'restored' : t.status; }
  function key(pb, id, host) { return pb + '\\u0000' + id + '\\u0000' + host; }

  var byKey = {};
  data.tasks.forEach(function (t) { byKey[key(t.playbook, t.taskId, t.host)] = t; });

  var app = document.getElementById('app');
  var head = document.getElementById('head');
  var h1 = el('h1', null, 'tsplay ' + data.kind + ' ' + data.runId);
  var badge = el('span', { 'class': 'badge', id: 'outcome' }, data.outcome);
  badge.style.background = COLORS[data.outcome === 'ok' ? 'ok' : data.outcome === 'failed' ? 'failed' : data.outcome] || '#888';
  h1.appendChild(badge);
  head.appendChild(h1);
  head.appendChild(el('div', { 'class': 'meta' }, 'started ' + data.start + ' by ' + data.user + '@' + data.hostname + ' · ' + secs(data.durationMs) +
    ' · tsplay ' + data.version + (data.git ? ' · git ' + data.git : '') + (data.parent ? ' · resumes ' + data.parent : '')));
  var cmd = el('div', { 'class': 'meta' });
  cmd.appendChild(el('code', null, data.command));
  head.appendChild(cmd);
  if (data.message) head.appendChild(el('div', { 'class': 'meta' }, data.message));

  function section(id, title) {
    var s = el('section', { id: id });
    s.appendChild(el('h2', null, title));
    app.appendChild(s);
    return s;
  }
  function legend(parent) {
    var l = el('div', { 'class': 'legend' });
    ['ok', 'changed', 'failed', 'unreachable', 'skipped', 'ignored', 'in flight', 'restored', 'not run'].forEach(function (s) {
      var span = el('span');
      var i = el('i');
      i.style.background = COLORS[s];
      span.appendChild(i);
      span.appendChild(document.createTextNode(s));
      l.appendChild(span);
    });
    parent.appendChild(l);
  }

  // Hosts: the recap, counted from the journal.
  (function hosts() {
    var s = section('hosts', 'Hosts');
    var table = el('table', { id: 'recap' });
    var cols = ['ok', 'changed', 'failed', 'unreachable', 'skipped', 'ignored', 'restored'];
    var tr = el('tr');
    tr.appendChild(el('th', null, 'host'));
    cols.forEach(function (c) { tr.appendChild(el('th', null, c)); });
    table.appendChild(tr);
    data.hosts.forEach(function (h) {
      var counts = {};
      data.tasks.forEach(function (t) { if (t.host === h) { var st = statusOf(t); counts[st] = (counts[st] || 0) + 1; if (st === 'changed') counts.ok = (counts.ok || 0) + 1; } });
      var row = el('tr', { 'data-host': h });
      var name = el('td', null, h);
      if (counts.failed || counts.unreachable) name.style.color = COLORS.failed;
      row.appendChild(name);
      cols.forEach(function (c) { row.appendChild(el('td', { 'class': 'num' }, counts[c] || 0)); });
      table.appendChild(row);
    });
    s.appendChild(table);
  })();

  // Timeline: one row per host, one bar per task run, stages as bands behind.
  (function gantt() {
    var s = section('timeline', 'Timeline per host');
    legend(s);
    var runs = data.tasks.filter(function (t) { return !t.restored && t.start; });
    var t0 = Date.parse(data.start);
    var t1 = Date.parse(data.end);
    runs.forEach(function (t) { var a = Date.parse(t.start); if (a < t0) t0 = a; var b = Date.parse(t.end || data.end); if (b > t1) t1 = b; });
    if (!(t1 > t0)) t1 = t0 + 1000;
    var LABEL = 130, W = 1080, ROW = 24, TOP = 34;
    var hosts = data.hosts;
    var H = TOP + hosts.length * ROW + 24;
    var svg = sv('svg', { id: 'gantt', width: LABEL + W + 20, height: H, viewBox: '0 0 ' + (LABEL + W + 20) + ' ' + H, role: 'img' });
    svg.appendChild(sv('title', null, 'Timeline of ' + data.runId));
    function x(t) { return LABEL + (Date.parse(t) - t0) / (t1 - t0) * W; }
    data.stages.forEach(function (st, i) {
      if (!st.start) return;
      var a = x(st.start), b = x(st.end || data.end);
      var band = sv('rect', { x: a, y: 14, width: Math.max(1, b - a), height: H - 36, fill: i % 2 ? '#eef1f6' : '#f7f8fb', 'data-stage': st.name });
      svg.appendChild(titled(band, 'stage ' + st.index + '/' + st.total + ' ' + st.name + ': ' + (st.outcome || 'in flight')));
      svg.appendChild(sv('text', { x: a + 3, y: 26, 'font-size': 11, fill: st.outcome === 'failed' ? COLORS.failed : '#5b6475' }, st.index + ' ' + short(st.name, 24)));
    });
    var ticks = 8;
    for (var k = 0; k <= ticks; k++) {
      var tx = LABEL + W * k / ticks;
      svg.appendChild(sv('line', { x1: tx, y1: TOP - 4, x2: tx, y2: H - 20, stroke: '#e3e6ec' }));
      svg.appendChild(sv('text', { x: tx, y: H - 6, 'font-size': 11, fill: '#7a8396', 'text-anchor': 'middle' }, secs(Math.round((t1 - t0) * k / ticks))));
    }
    hosts.forEach(function (h, i) {
      var y = TOP + i * ROW;
      var g = sv('g', { 'data-host': h, 'class': 'gantt-row' });
      g.appendChild(sv('text', { x: 4, y: y + 16, 'font-size': 12, fill: '#1d2330' }, short(h, 18)));
      g.appendChild(sv('line', { x1: LABEL, y1: y + ROW - 1, x2: LABEL + W, y2: y + ROW - 1, stroke: '#f0f1f4' }));
      runs.forEach(function (t) {
        if (t.host !== h) return;
        var a = x(t.start), b = x(t.end || data.end);
        var st = statusOf(t);
        var bar = sv('rect', { x: a, y: y + 4, width: Math.max(2, b - a), height: ROW - 9, rx: 2, fill: COLORS[st] || '#888', 'data-task': t.task, 'data-status': st });
        g.appendChild(titled(bar, h + ' · ' + t.task + ' · ' + st + (t.durationMs !== undefined ? ' · ' + secs(t.durationMs) : '') + (t.msg ? '\\n' + t.msg : '')));
      });
      svg.appendChild(g);
    });
    var wrap = el('div', { 'class': 'scroll' });
    wrap.appendChild(svg);
    s.appendChild(wrap);
  })();

  // Task graph: each playbook (stage) a column of its tasks in order; a task leads to the next.
  (function graph() {
    var s = section('tasks', 'Task graph');
    legend(s);
    var NW = 200, NH = 50, GAPX = 44, GAPY = 22, TOP = 56;
    var cols = data.plan.map(function (pb) {
      var nodes = [];
      pb.plays.forEach(function (play) {
        play.tasks.forEach(function (t) { nodes.push({ pb: pb, play: play, task: t }); });
      });
      return { pb: pb, nodes: nodes };
    });
    var rows = Math.max(1, Math.max.apply(null, cols.map(function (c) { return c.nodes.length; })));
    var Wd = 20 + cols.length * (NW + GAPX);
    var Hd = TOP + rows * (NH + GAPY) + 10;
    var svg = sv('svg', { id: 'graph', width: Wd, height: Hd, viewBox: '0 0 ' + Wd + ' ' + Hd, role: 'img' });
    svg.appendChild(sv('title', null, 'Task graph of ' + data.runId));
    var defs = sv('defs');
    var marker = sv('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.appendChild(sv('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#9aa3b2' }));
    defs.appendChild(marker);
    svg.appendChild(defs);
    var prevEnd = null;
    cols.forEach(function (c, ci) {
      var x0 = 20 + ci * (NW + GAPX);
      var title = c.pb.stage || c.pb.path.split('/').pop();
      svg.appendChild(titled(sv('text', { x: x0, y: 20, 'font-size': 13, 'font-weight': 600, fill: '#1d2330' }, short(title, 34)), c.pb.path));
      c.nodes.forEach(function (n, ri) {
        var y = TOP + ri * (NH + GAPY);
        var hosts = n.play.hosts;
        var statuses = hosts.map(function (h) {
          var t = byKey[key(c.pb.path, n.task.id, h)];
          return { host: h, status: t ? statusOf(t) : 'not run', t: t };
        });
        var agg = 'not run';
        ORDER.some(function (o) { if (statuses.some(function (x) { return x.status === o; })) { agg = o; return true; } return false; });
        var g = sv('g', { 'class': 'task-node', 'data-task': n.task.name, 'data-status': agg, 'data-playbook': c.pb.path });
        var rect = sv('rect', { x: x0, y: y, width: NW, height: NH, rx: 6, fill: '#fff', stroke: COLORS[agg], 'stroke-width': agg === 'not run' ? 1 : 2.5 });
        if (n.task.handler) rect.setAttribute('stroke-dasharray', '5 3');
        g.appendChild(rect);
        g.appendChild(sv('rect', { x: x0, y: y, width: 6, height: NH, rx: 2, fill: COLORS[agg] }));
        g.appendChild(sv('text', { x: x0 + 12, y: y + 18, 'font-size': 12, fill: '#1d2330' }, short((n.task.handler ? "handler: " : "") + n.task.name, 28)));
        g.appendChild(sv('text', { x: x0 + 12, y: y + 33, 'font-size': 10.5, fill: '#7a8396' }, short(n.task.module + (n.task.line ? ' · line ' + n.task.line : '') + ' · ' + agg, 40)));
        statuses.forEach(function (st, i) {
          var dot = sv('circle', { cx: x0 + 16 + i * 13, cy: y + 43, r: 4.5, fill: COLORS[st.status] || '#888', 'data-host': st.host, 'data-status': st.status });
          g.appendChild(titled(dot, st.host + ': ' + st.status + (st.t && st.t.durationMs !== undefined ? ' · ' + secs(st.t.durationMs) : '') + (st.t && st.t.msg ? '\\n' + st.t.msg : '')));
        });
        titled(g, n.task.name + ' (' + n.task.module + ')\\n' + statuses.map(function (x) { return x.host + ': ' + x.status; }).join('\\n'));
        svg.appendChild(g);
        if (ri > 0) svg.appendChild(sv('line', { x1: x0 + NW / 2, y1: y - GAPY, x2: x0 + NW / 2, y2: y - 2, stroke: '#9aa3b2', 'marker-end': 'url(#arrow)' }));
        else if (prevEnd) svg.appendChild(sv('path', { d: 'M ' + prevEnd.x + ' ' + prevEnd.y + ' C ' + (prevEnd.x + GAPX) + ' ' + prevEnd.y + ', ' + (x0 - GAPX) + ' ' + (y + NH / 2) + ', ' + (x0 - 2) + ' ' + (y + NH / 2), fill: 'none', stroke: '#9aa3b2', 'marker-end': 'url(#arrow)' }));
      });
      if (c.nodes.length) prevEnd = { x: x0 + NW, y: TOP + (c.nodes.length - 1) * (NH + GAPY) + NH / 2 };
    });
    var wrap = el('div', { 'class': 'scroll' });
    wrap.appendChild(svg);
    s.appendChild(wrap);
  })();

  // The first failure, as tsplay autopsy tells it.
  (function failure() {
    var a = data.autopsy;
    var f = a.firstFailure;
    if (!f && !a.inFlight.length && !a.unreachable.length) return;
    var s = section('failure', f ? 'First failure' : 'In flight when the journal stops');
    if (f) {
      var dl = el('dl', { 'class': 'kv' });
      [['host', f.host + (f.status === 'unreachable' ? ' (unreachable)' : '')], ['task', f.task], ['play', f.play], ['stage', f.stage],
        ['at', f.file + (f.line ? ':' + f.line + (f.column ? ':' + f.column : '') : '')], ['module', f.module], ['command', f.command],
        ['rc', f.rc], ['attempts', f.attempts], ['rule', f.code], ['msg', f.msg]].forEach(function (kv) {
        if (kv[1] === undefined || kv[1] === null) return;
        dl.appendChild(el('dt', null, kv[0]));
        dl.appendChild(el('dd', null, kv[1]));
      });
      s.appendChild(dl);
      if (f.stderrTail.length) { s.appendChild(el('div', { 'class': 'muted' }, 'stderr (tail)')); s.appendChild(el('pre', null, f.stderrTail.join('\\n'))); }
    }
    a.unreachable.forEach(function (u) { s.appendChild(el('div', null, 'unreachable: ' + u.host + ' at ' + u.task + (u.msg ? ' — ' + u.msg : ''))); });
    a.inFlight.forEach(function (t) { s.appendChild(el('div', null, 'in flight: ' + t.host + ': ' + t.task)); });
  })();

  // Decisions: every choice the engine made and why.
  (function decisions() {
    var s = section('decisions', 'Decisions');
    if (!data.decisions.length) { s.appendChild(el('div', { 'class': 'muted' }, 'none')); return; }
    if (data.decisionsOmitted) s.appendChild(el('div', { 'class': 'muted' }, data.decisionsOmitted + ' earlier decisions are in the journal'));
    var table = el('table');
    var tr = el('tr');
    ['time', 'host', 'task', 'decision'].forEach(function (h) { tr.appendChild(el('th', null, h)); });
    table.appendChild(tr);
    data.decisions.forEach(function (d) {
      var row = el('tr');
      row.appendChild(el('td', null, d.time.slice(11, 23)));
      row.appendChild(el('td', null, d.host || ''));
      row.appendChild(el('td', null, d.task || ''));
      row.appendChild(el('td', null, d.message));
      table.appendChild(row);
    });
    s.appendChild(table);
  })();
  document.body.setAttribute('data-rendered', 'yes');
})();
`;
