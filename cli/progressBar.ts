import type { Progress } from '../shared/backup';
import { formatBytes } from './format';

/** A one-line progress bar on stderr, redrawn at most ten times a second; silent when not a terminal. */
export class ProgressBar {
  private last = 0;
  private shown = false;
  private readonly started = Date.now();

  constructor(private readonly enabled: boolean) {}

  update = (p: Progress): void => {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    const width = 30;
    const frac = p.bytesTotal ? Math.min(1, p.bytesDone / p.bytesTotal) : p.itemsTotal ? Math.min(1, p.itemsDone / p.itemsTotal) : 0;
    const filled = Math.round(frac * width);
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? formatBytes(p.bytesDone / secs) + '/s' : '';
    const items = p.itemsTotal !== undefined ? ` ${p.itemsDone}/${p.itemsTotal} items` : '';
    const bytes = p.bytesTotal !== undefined ? ` ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}` : '';
    const line = `${p.phase.padEnd(11)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%${items}${bytes} ${rate}`;
    process.stderr.write(`\r${line.slice(0, (process.stderr.columns ?? 120) - 1)}\x1b[K`);
    this.shown = true;
  };

  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}
