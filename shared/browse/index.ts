export { listFolderSnapshots, type FolderSnapshotRow, type ListFolderSnapshotsInput } from './listFolderSnapshots';
export { listTenantSnapshots, listTenantSnapshotsPage, SNAPSHOT_PAGE_USERS, type TenantSnapshotRow, type ListTenantSnapshotsInput } from './listTenantSnapshots';
export { listFolderSnapshot, type FolderEntry, type ListFolderSnapshotInput } from './listFolderSnapshot';
export { listServiceSnapshot, type ServiceEntry, type ListServiceSnapshotInput } from './listServiceSnapshot';
export type { SnapshotListing, PasswordSource } from './snapshotListing';
