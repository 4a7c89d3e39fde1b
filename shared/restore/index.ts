export { restoreFolder, type FolderRestoreOptions, type RestoreResult } from './restoreFolder';
export { selectSnapshot, included } from './selectSnapshot';
