/** The Microsoft 365 workloads backed up per user. */
export const SERVICES = ['onedrive', 'mail', 'calendar', 'contacts'] as const;
export type Service = (typeof SERVICES)[number];

export function isService(v: unknown): v is Service {
  return typeof v === 'string' && (SERVICES as readonly string[]).includes(v);
}
