import type { Service } from '../../../graph';
import type { ServiceWriter } from './serviceWriter';

/**
 * The writer of each service. OneDrive, mail and contacts register here; the calendar writer
 * (`calendarWriter.ts`) registers itself with `registerWriter` from its module and is imported
 * below once it exists. A service without a writer fails its units with one clear sentence.
 */
const writers = new Map<Service, ServiceWriter>();

export function registerWriter(w: ServiceWriter): void {
  writers.set(w.service, w);
}

export function writerFor(service: Service): ServiceWriter | undefined {
  return writers.get(service);
}
