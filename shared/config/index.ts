export { loadSettings, SETTING_NAMES, SECRET_SETTINGS, LOCAL_ONLY_SETTINGS, TENANT_SECRET_PREFIX, type Settings, DEFAULT_STORAGE_PRICES, type StorageTier } from './settings';
