/**
 * The Function App's entry point ("main" in package.json): importing these modules registers every
 * function with the v4 programming model. Registration has no side effects beyond that.
 */
import './nightlyBackup';
import './backupOrchestrators';
import './backupActivities';
import './http/backups';
import './http/snapshots';
import './http/policy';
import './pruneOrchestrator';
import './pruneFunctions';
import './http/prune';
import './restoreFunctions';
import './restoreOrchestrator';
import './http/restores';
import './http/console';
import './http/consoleAssets';
import './http/browse';
import './http/browseItems';
import './http/browseRestore';
import './http/audit';
import './http/notify';
import './notifyRuns';
