import { ContactsWriter } from './contactsWriter';
import { MailWriter } from './mailWriter';
import { OneDriveWriter } from './oneDriveWriter';
import { registerWriter } from './writers';

/**
 * Registers every writer. The calendar writer (calendarWriter.ts, helper "cal") registers here too:
 * add `registerWriter(new CalendarWriter())` below once it exists.
 */
registerWriter(new OneDriveWriter());
registerWriter(new MailWriter());
registerWriter(new ContactsWriter());
