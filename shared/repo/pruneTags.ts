/**
 * The blob index tag prune puts on a blob no kept snapshot needs. The storage account's lifecycle
 * rule `garbage-delete` (infra/modules/storage.bicep) deletes such blobs once their immutability has
 * ended, so the app needs no delete right on locked packs (docs/repository-format.md, "Prune").
 */
export const GARBAGE_TAGS = { m365backup: 'garbage' };
