import { ChunkIndex } from './chunkIndex';
import { ContentWriter, type ContentStats, type ContentWriterOptions } from './contentWriter';
import type { Repository } from './repository';

/**
 * The one lifecycle of writing content into the repository: open the chunk index, write through a
 * ContentWriter, flush (every result durable), close the workers, save the index's Bloom filter.
 * Folder backups, CLI tenant runs and Function App work units all go through it, so the order
 * (durable content before rows that point at it, the filter saved after its packs are indexed)
 * lives in one place.
 */
export class ContentSession {
  private closed = false;

  private constructor(
    private readonly index: ChunkIndex,
    readonly writer: ContentWriter,
  ) {}

  static async open(repo: Repository, options: ContentWriterOptions = {}): Promise<ContentSession> {
    const index = await ChunkIndex.open(repo);
    return new ContentSession(index, new ContentWriter(repo, index, options));
  }

  get stats(): ContentStats {
    return this.writer.stats;
  }

  /** Waits until everything written so far is durable; the session stays open. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Flushes, stops the workers and saves the index. The results delivered so far are durable. */
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
    if (this.closed) return this.writer.stats;
    this.closed = true;
    return this.writer.close();
  }
}
