/** Progress of long work, reported by the use cases and rendered by the CLI (bar) or Functions (custom status). */
export interface Progress {
  phase: string;
  itemsDone: number;
  itemsTotal?: number;
  bytesDone: number;
  bytesTotal?: number;
}

export type ProgressListener = (p: Progress) => void;

export const noProgress: ProgressListener = () => undefined;
