export { restoreFolder, type FolderRestoreOptions, type RestoreResult } from './restoreFolder';
export { selectSnapshot, included } from './selectSnapshot';
export { manifest, diffManifests, type Manifest } from './compareTrees';
