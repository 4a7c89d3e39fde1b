import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimTenant } from './model';
import { scopesOf, type SimLibrary } from './sites';

/**
 * Differences between a restored folder's Sites/, Teams/ and Groups/ and the tenant's sites,
 * teams and groups (empty = equal): library files byte for byte, every list item in the list's
 * JSON, every channel message and reply once (author, time) with its inline images byte for byte,
 * one .eml per group post. Scopes the app may not read must be absent.
 */
export function compareScopeRestore(target: string, tenant: SimTenant): string[] {
  const problems: string[] = [];
  const s = scopesOf(tenant);
  const files = (lib: SimLibrary) => {
    const pathOf = (id: string): string => {
      const i = lib.drive.get(id)!;
      return i.parentId && i.parentId !== lib.rootId ? `${pathOf(i.parentId)}/${i.name}` : i.name;
    };
    return [...lib.drive.values()].filter((i) => !i.folder).map((i) => ({ path: pathOf(i.id), data: i.content ?? Buffer.alloc(0) }));
  };
  for (const site of s.sites.values()) {
    const dir = join(target, 'Sites', site.displayName);
    if (site.denied) {
      if (existsSync(dir)) problems.push(`Sites/${site.displayName} is restored though the app may not read it`);
      continue;
    }
    for (const lib of site.libraries)
      for (const f of files(lib)) {
        const full = join(dir, lib.user.displayName, f.path);
        if (!existsSync(full)) problems.push(`missing file Sites/${site.displayName}/${lib.user.displayName}/${f.path}`);
        else if (!readFileSync(full).equals(f.data)) problems.push(`Sites/${site.displayName}/${lib.user.displayName}/${f.path} differs`);
      }
    for (const list of site.lists.values()) {
      const file = join(dir, 'Lists', `${list.displayName}.json`);
      if (!existsSync(file)) {
        problems.push(`missing list Sites/${site.displayName}/Lists/${list.displayName}.json`);
        continue;
      }
      const items = (JSON.parse(readFileSync(file, 'utf8')) as { items: { id: string; fields: Record<string, unknown> }[] }).items;
      if (items.length !== list.items.size) problems.push(`list ${list.displayName}: ${items.length} items, not ${list.items.size}`);
      for (const i of items) if (JSON.stringify(i.fields.Title) !== JSON.stringify(list.items.get(i.id)?.fields.Title)) problems.push(`list ${list.displayName} item ${i.id} differs`);
    }
  }
  for (const team of s.teams.values()) {
    const dir = join(target, 'Teams', team.displayName);
    if (team.denied) {
      if (existsSync(dir)) problems.push(`Teams/${team.displayName} is restored though the app may not read it`);
      continue;
    }
    for (const c of team.channels.values()) {
      const cdir = join(dir, c.displayName);
      const html = existsSync(join(cdir, 'transcript.html')) ? readFileSync(join(cdir, 'transcript.html'), 'utf8') : '';
      if (!html) problems.push(`missing transcript Teams/${team.displayName}/${c.displayName}/transcript.html`);
      const live = [...c.messages.values()].filter((m) => !m.deleted);
      const stored = existsSync(join(cdir, 'messages')) ? readdirSync(join(cdir, 'messages')) : [];
      if (stored.length !== live.length) problems.push(`channel ${c.displayName}: ${stored.length} messages restored, not ${live.length}`);
      for (const m of live) {
        const file = join(cdir, 'messages', `${m.id}.json`);
        if (!existsSync(file)) {
          problems.push(`channel ${c.displayName}: message ${m.id} missing`);
          continue;
        }
        const j = JSON.parse(readFileSync(file, 'utf8')) as { from?: { user?: { displayName?: string } }; createdDateTime?: string };
        if (j.from?.user?.displayName !== m.from.displayName || j.createdDateTime !== m.created) problems.push(`channel ${c.displayName}: message ${m.id} author or time differs`);
        if (html.split(`id="m${m.id}"`).length !== 2) problems.push(`channel ${c.displayName}: message ${m.id} not once in the transcript`);
        [...m.hosted.values()].forEach((h, n) => {
          const img = join(cdir, 'images', `${m.id}-${n + 1}.png`);
          if (!existsSync(img) || !readFileSync(img).equals(h.data)) problems.push(`channel ${c.displayName}: image ${n + 1} of message ${m.id} missing or different`);
        });
      }
    }
  }
  for (const g of s.groups.values()) {
    const dir = join(target, 'Groups', g.displayName);
    if (g.denied) continue;
    for (const t of g.threads.values()) {
      const tdir = join(dir, t.topic);
      const emls = existsSync(tdir) ? readdirSync(tdir).filter((n) => n.endsWith('.eml')) : [];
      if (emls.length !== t.posts.size) problems.push(`group ${g.displayName}, "${t.topic}": ${emls.length} posts restored, not ${t.posts.size}`);
    }
  }
  return problems;
}
