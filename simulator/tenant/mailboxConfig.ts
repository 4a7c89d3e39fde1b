/**
 * Mailbox configuration of a simulated mailbox: mailboxSettings (automatic replies, time zone,
 * working hours, userPurpose), the inbox's message rules and the master category list, as Graph
 * v1.0 shapes them. A mailbox without an explicit configuration gets Exchange's defaults.
 */
import type { SimUserData } from './model';

export interface SimMailboxConfig {
  automaticReplies: { status: 'disabled' | 'alwaysEnabled' | 'scheduled'; internalReplyMessage: string; externalReplyMessage: string; externalAudience: 'none' | 'contactsOnly' | 'all' };
  timeZone: string;
  language: string;
  rules: { id: string; displayName: string; sequence: number; isEnabled: boolean; conditions: Record<string, unknown>; actions: Record<string, unknown> }[];
  categories: { id: string; displayName: string; color: string }[];
}

export function configOf(u: SimUserData): SimMailboxConfig {
  const box = u.mailbox;
  box.config ??= {
    automaticReplies: { status: 'disabled', internalReplyMessage: '', externalReplyMessage: '', externalAudience: 'all' },
    timeZone: 'UTC',
    language: 'en-US',
    rules: [],
    categories: [
      { id: `cat-${u.user.id.slice(0, 8)}-1`, displayName: 'Blue category', color: 'preset7' },
      { id: `cat-${u.user.id.slice(0, 8)}-2`, displayName: 'Red category', color: 'preset0' },
    ],
  };
  return box.config;
}

/** GET /users/{id}/mailboxSettings. */
export function mailboxSettingsJson(u: SimUserData): Record<string, unknown> {
  const c = configOf(u);
  return {
    '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#users('${u.user.id}')/mailboxSettings`,
    archiveFolder: `msgarchive-${u.user.id.slice(0, 8)}`,
    timeZone: c.timeZone,
    delegateMeetingMessageDeliveryOptions: 'sendToDelegateOnly',
    dateFormat: 'yyyy-MM-dd',
    timeFormat: 'HH:mm',
    userPurpose: u.user.purpose ?? 'user',
    automaticRepliesSetting: {
      status: c.automaticReplies.status,
      externalAudience: c.automaticReplies.externalAudience,
      internalReplyMessage: c.automaticReplies.internalReplyMessage,
      externalReplyMessage: c.automaticReplies.externalReplyMessage,
      scheduledStartDateTime: { dateTime: '2026-01-01T00:00:00.0000000', timeZone: 'UTC' },
      scheduledEndDateTime: { dateTime: '2026-01-02T00:00:00.0000000', timeZone: 'UTC' },
    },
    language: { locale: c.language, displayName: c.language === 'en-US' ? 'English (United States)' : c.language },
    workingHours: { daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], startTime: '08:00:00.0000000', endTime: '17:00:00.0000000', timeZone: { name: c.timeZone } },
  };
}
