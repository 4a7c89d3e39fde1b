import { CalendarWriter } from './calendarWriter';
import { ContactsWriter } from './contactsWriter';
import { MailWriter } from './mailWriter';
import { OneDriveWriter } from './oneDriveWriter';
import { SharePointWriter } from './sharePointWriter';
import { registerWriter } from './writers';

/**
 * Registers every writer.
 */
registerWriter(new OneDriveWriter());
registerWriter(new MailWriter());
registerWriter(new ContactsWriter());
registerWriter(new CalendarWriter());
registerWriter(new SharePointWriter());
