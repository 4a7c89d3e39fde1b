export { restoreFolder, type FolderRestoreOptions, type RestoreResult } from './restoreFolder';
export { selectSnapshot, pickSnapshot, parseSnapshotSelector, latestAtOrBefore, included, type SnapshotSelector } from './selectSnapshot';
export { manifest, diffManifests, type Manifest } from './compareTrees';
