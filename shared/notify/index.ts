export { notifyTenant } from './notifyTenant';
export { failedRunNotices, missedRunNotice, webhookBody, type RunFacts, type RunNotice } from './runNotice';
export { checkWebhookUrl, postWebhook, webhookHost } from './webhook';
