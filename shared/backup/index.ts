export { backupFolder, folderChangeFacts, type FolderBackupOptions, type BackupResult } from './backupFolder';
export { walkFolder, type FolderEntry, type WalkFailure, type WalkResult, type EntryType } from './folderSource';
export { type Progress, type ProgressListener, noProgress } from '../progress';
