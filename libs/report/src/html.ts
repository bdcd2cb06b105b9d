/** Small HTML helpers: the page is a string, every value from the run is escaped. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A table from already-escaped cells; the first row is the header. */
export function table(rows: readonly (readonly string[])[], className = ''): string {
  const [head, ...body] = rows;
  const tr = (cells: readonly string[], tag: 'th' | 'td') => `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`;
  return `<table class="${className}"><thead>${tr(head, 'th')}</thead><tbody>${body.map((r) => tr(r, 'td')).join('')}</tbody></table>`;
}

/** A rendered plot (already an SVG string) with a stable name tests and links can find. */
export function figure(name: string, svg: string, caption = ''): string {
  return `<figure class="plot" data-plot="${escapeHtml(name)}">${svg}${caption ? `<figcaption>${caption}</figcaption>` : ''}</figure>`;
}

export function note(text: string, kind: 'missing' | 'problem' | 'info' = 'info'): string {
  return `<p class="note ${kind}">${text}</p>`;
}

export function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${escapeHtml(title)}</h2>${body}</section>`;
}

export const STYLE = `
body { font-family: Helvetica, Arial, sans-serif; color: #222; margin: 0; background: #f6f7f9; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 32px 64px; background: white; }
h1 { font-size: 26px; margin: 4px 0 2px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
h2 { font-size: 19px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #ddd; }
.subtitle { color: #666; margin: 0 0 16px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 4px 16px; margin: 12px 0; }
dl.facts dt { color: #666; } dl.facts dd { margin: 0; font-weight: 500; }
table { border-collapse: collapse; margin: 10px 0; font-size: 14px; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 5px 12px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { background: #f2f4f7; font-weight: 600; }
table.files td, table.files th { text-align: left; } table.files td:nth-child(2) { text-align: right; }
td.best { font-weight: 700; }
figure.plot { margin: 12px 0; } figure.plot svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 13px; margin-top: 2px; }
.row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.note { padding: 8px 12px; border-radius: 4px; font-size: 14px; }
.note.missing { background: #fff7e0; border-left: 4px solid #e0a800; }
.note.problem { background: #fdecea; border-left: 4px solid #d62728; }
.note.info { background: #eef4fb; border-left: 4px solid #1f77b4; }
.plot-error { color: #a00; font-family: monospace; }
details { margin: 12px 0; } summary { cursor: pointer; color: #1f4f8f; }
pre { background: #f6f8fa; padding: 12px; overflow: auto; font-size: 12.5px; max-height: 480px; }
code { font-size: 13px; }
`;

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body><main>
${body}
</main></body>
</html>
`;
}
