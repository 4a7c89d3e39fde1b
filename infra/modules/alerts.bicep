// Azure Monitor alerts on the same signals as the webhook notifications: a backup that failed or
// ended partial, and a nightly run that did not happen. The notifyRuns timer writes one
// "m365b-run-alert event=… tenant=… run=…" trace per event, once (functions/notifyRuns.ts); this
// rule counts them in Application Insights every 10 minutes and notifies the action group.
param namePrefix string
param location string
@description('E-mail address the alerts go to; empty: the action group has no receiver (add one in the portal).')
param alertEmail string = ''

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: '${namePrefix}-insights'
}

resource group 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-backup-alerts'
  location: 'global'
  properties: {
    groupShortName: 'm365backup'
    enabled: true
    emailReceivers: empty(alertEmail) ? [] : [
      { name: 'admin', emailAddress: alertEmail, useCommonAlertSchema: true }
    ]
  }
}

resource runAlert 'Microsoft.Insights/scheduledQueryRules@2021-08-01' = {
  name: '${namePrefix}-backup-run-alert'
  location: location
  properties: {
    displayName: 'm365-backup: a backup failed, ended partial, or did not run'
    description: 'Counts the m365b-run-alert traces of the notifyRuns timer (one per failed or partial run, and per nightly run that never started).'
    severity: 2
    enabled: true
    scopes: [ insights.id ]
    evaluationFrequency: 'PT10M'
    windowSize: 'PT10M'
    autoMitigate: false
    criteria: {
      allOf: [
        {
          query: 'traces | where message startswith "m365b-run-alert" | extend event = extract("event=([a-z-]+)", 1, message), tenant = extract("tenant=([a-z0-9]+)", 1, message)'
          timeAggregation: 'Count'
          dimensions: [
            { name: 'event', operator: 'Include', values: [ '*' ] }
            { name: 'tenant', operator: 'Include', values: [ '*' ] }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    actions: { actionGroups: [ group.id ] }
  }
}

output alertRuleId string = runAlert.id
