import { AppServices } from '../shared/app/services';
import { loadSettings } from '../shared/config';

let services: AppServices | undefined;

/**
 * The app's services, built once per worker process from the app settings (the same names the
 * CLI reads; infra/ sets them). Storage is a connection string locally and managed identity in Azure.
 */
export function appServices(): AppServices {
  services ??= new AppServices(loadSettings(process.env));
  return services;
}

/** For the local host and tests: rebuild from the current environment. */
export function resetAppServices(): void {
  services = undefined;
}
