/** A SharePoint list's items as JSON (the Graph fields) and CSV (one column per field seen). */
export interface ListRow {
  id: string;
  fields: Record<string, unknown>;
}

const cell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

const sorted = (rows: ListRow[]) => [...rows].sort((a, b) => Number(a.id) - Number(b.id) || a.id.localeCompare(b.id));

export function listJson(name: string, rows: ListRow[]): string {
  return JSON.stringify({ list: name, items: sorted(rows).map((r) => ({ id: r.id, fields: r.fields })) }, null, 1);
}

export function listCsv(rows: ListRow[]): string {
  const columns: string[] = [];
  for (const r of rows) for (const k of Object.keys(r.fields)) if (!k.startsWith('@odata') && !columns.includes(k)) columns.push(k);
  const lines = [['ID', ...columns.filter((c) => c !== 'id')].map(cell).join(',')];
  for (const r of sorted(rows)) lines.push([r.id, ...columns.filter((c) => c !== 'id').map((c) => r.fields[c])].map(cell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
