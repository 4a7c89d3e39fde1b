import { ChunkIndex } from './chunkIndex';
import { ContentWriter, type ContentStats, type ContentWriterOptions } from './contentWriter';
import type { Repository } from './repository';

const NO_STATS: ContentStats = { bytesRead: 0, chunks: 0, newChunks: 0, newBytes: 0, storedBytes: 0, packs: 0 };

/**
 * The one lifecycle of writing content into the repository: open the chunk index, write through a
 * ContentWriter, flush (every result durable), close the workers, save the index's new IDs (one
 * Bloom delta blob). Folder backups, CLI tenant runs and Function App work units all go through
 * it, so the order (durable content before rows that point at it, the IDs saved after their packs
 * are indexed) lives in one place. Opening costs no storage request and starts no worker: the
 * writer (and its workers) is made on first use, so a unit that finds nothing changed pays nothing.
 */
export class ContentSession {
  private closed = false;
  private made?: ContentWriter;

  private constructor(
    private readonly repo: Repository,
    private readonly index: ChunkIndex,
    private readonly options: ContentWriterOptions,
  ) {}

  static async open(repo: Repository, options: ContentWriterOptions = {}): Promise<ContentSession> {
    return new ContentSession(repo, await ChunkIndex.open(repo), options);
  }

  get writer(): ContentWriter {
    if (this.closed && !this.made) throw new Error('the content session is closed');
    this.made ??= new ContentWriter(this.repo, this.index, this.options);
    return this.made;
  }

  get stats(): ContentStats {
    return this.made?.stats ?? { ...NO_STATS };
  }

  /** Waits until everything written so far is durable; the session stays open. */
  async flush(): Promise<void> {
    await this.made?.flush();
  }

  /**
   * Flushes, stops the workers and saves the index. The results delivered so far are durable.
   * A failed save (after retries) throws STORAGE: the caller reports it (the content is stored).
   */
  async finish(): Promise<ContentStats> {
    const stats = await this.close();
    await this.index.save();
    return stats;
  }

  /**
   * Stops the workers (after flushing what is queued); idempotent, never throws on a second call.
   * Use in `finally`: after a failure the index is not saved (the next run rebuilds what it misses).
   */
  async close(): Promise<ContentStats> {
    if (this.closed) return this.stats;
    this.closed = true;
    return this.made ? this.made.close() : { ...NO_STATS };
  }
}
