/**
 * Building the page from data without ever parsing it as HTML: every text goes through
 * textContent / attributes (output encoding by construction; the CSP forbids inline script anyway).
 */
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'number' ? String(c) : c);
  return el;
}

/** Replaces the main region's content, sets the page title and moves focus there (for keyboards and screen readers). */
export function show(title: string, ...children: Child[]): void {
  const main = document.getElementById('main')!;
  main.replaceChildren(h('h1', {}, title), ...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'number' ? String(c) : c)));
  document.title = `${title} · m365-backup console`;
}

export function table(caption: string, head: string[], rows: Child[][], numeric: number[] = []): HTMLTableElement {
  return h(
    'table',
    {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...head.map((c, i) => h('th', { scope: 'col', class: numeric.includes(i) ? 'num' : undefined }, c)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c, i) => h('td', { class: numeric.includes(i) ? 'num' : undefined }, c))))),
  );
}

export const statusBadge = (s: string) => h('span', { class: `status status-${s.replace(/[^A-Za-z]/g, '')}` }, s);
