export { loadSettings, SETTING_NAMES, SECRET_SETTINGS, type Settings } from './settings';
