export { startAzurite, azuriteConnectionString, AZURITE_ACCOUNT, AZURITE_KEY, type AzuriteInstance, type StartAzuriteOptions } from './azurite';
export { freePort, waitForPort } from './freePort';
export { SeededRandom } from './seededRandom';
