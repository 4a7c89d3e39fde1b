/** The items of one snapshot, as `ls` shows them: the stored metadata record of each item. */
export interface SnapshotListing<Entry> {
  snapshot: number;
  time: string;
  entries: Entry[];
}

/** The password, asked for only once the snapshot is known to exist (so a typo costs no prompt). */
export type PasswordSource = () => Promise<string>;
