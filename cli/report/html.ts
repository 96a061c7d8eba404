/**
 * `tsplay report`: one self-contained HTML file (inline style, script and SVG; no network) of a
 * recorded run. The run's data is embedded as JSON inside a <script type="application/json">,
 * escaped so that no string from the run can close the element or start markup.
 */
import type { RunModel } from '../../engine/journal/model.js';
import { reportData } from './data.js';
import { REPORT_SCRIPT, REPORT_STYLE } from './client.js';

/** JSON safe inside <script>: <, >, & and the JS line separators become \u escapes. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function renderReport(m: RunModel): string {
  const data = reportData(m);
  const title = `tsplay ${data.kind} ${data.runId} — ${data.outcome}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<header id="head"></header>
<main id="app"><noscript><p>This report draws its timeline and task graph with JavaScript; the run's data is in the page source (script#run-data).</p></noscript></main>
<script type="application/json" id="run-data">${scriptJson(data)}</script>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}
