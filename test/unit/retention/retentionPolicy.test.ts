import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { changePolicy, effectiveRules, EMPTY_POLICY, parseDuration, validatePolicy } from '../../../shared/retention';

const usage = (f: () => unknown, pattern: RegExp) => assert.throws(f, (e: Error & { code?: string }) => e.code === 'USAGE' && pattern.test(e.message));

describe('retention policy', () => {
  test('by default everything is kept', () => {
    assert.deepEqual(effectiveRules(EMPTY_POLICY, 'adele@contoso.com', 'mail'), { kind: 'all' });
  });

  test('the most specific scope wins: user+service, user, service, default', () => {
    let p = changePolicy(EMPTY_POLICY, { keep: { daily: 7 } });
    p = changePolicy(p, { service: 'mail', keep: { daily: 30 } });
    p = changePolicy(p, { user: 'Adele@contoso.com', keep: { monthly: 12 } });
    p = changePolicy(p, { user: 'adele@contoso.com', service: 'onedrive', keep: { last: 3 } });
    assert.deepEqual(effectiveRules(p, 'bob@contoso.com', 'calendar'), { kind: 'rules', rules: { daily: 7 }, scope: 'the default' });
    assert.deepEqual(effectiveRules(p, 'bob@contoso.com', 'mail'), { kind: 'rules', rules: { daily: 30 }, scope: 'service mail' });
    assert.equal(effectiveRules(p, 'ADELE@contoso.com', 'mail').kind, 'rules');
    assert.deepEqual((effectiveRules(p, 'adele@contoso.com', 'mail') as { rules: unknown }).rules, { monthly: 12 });
    assert.deepEqual((effectiveRules(p, 'adele@contoso.com', 'onedrive') as { rules: unknown }).rules, { last: 3 });
    assert.equal(Object.keys(p.users!).length, 1, 'users match case-insensitively');
    const back = changePolicy(p, { user: 'adele@contoso.com', service: 'onedrive', keep: null });
    assert.deepEqual((effectiveRules(back, 'adele@contoso.com', 'onedrive') as { rules: unknown }).rules, { monthly: 12 });
  });

  test('a legal hold, tenant-wide or per user, keeps everything whatever the rules', () => {
    const p = changePolicy(changePolicy(EMPTY_POLICY, { keep: { last: 1 } }), { user: 'adele@contoso.com', legalHold: true });
    assert.deepEqual(effectiveRules(p, 'adele@contoso.com', 'mail'), { kind: 'hold' });
    assert.equal(effectiveRules(p, 'bob@contoso.com', 'mail').kind, 'rules');
    assert.deepEqual(effectiveRules(changePolicy(p, { legalHold: true }), 'bob@contoso.com', 'mail'), { kind: 'hold' });
    assert.equal(effectiveRules(changePolicy(p, { user: 'adele@contoso.com', legalHold: false }), 'adele@contoso.com').kind, 'rules');
    usage(() => changePolicy(p, { service: 'mail', legalHold: true }), /whole tenant or a whole user/);
  });

  test('bad input is one clear USAGE sentence', () => {
    usage(() => changePolicy(EMPTY_POLICY, { keep: { daily: -1 } }), /keep-daily -1 of the default is not valid: give a whole number from 0 to 100000/);
    usage(() => changePolicy(EMPTY_POLICY, { keep: { yearly: 1e9 } }), /keep-yearly 1000000000/);
    usage(() => changePolicy(EMPTY_POLICY, { keep: { weekly: 2.5 } }), /whole number/);
    usage(() => changePolicy(EMPTY_POLICY, { keep: { last: 0 } }), /would keep no snapshot/);
    usage(() => changePolicy(EMPTY_POLICY, { keep: { within: '30x' } }), /is not a duration/);
    usage(() => changePolicy(EMPTY_POLICY, { keep: { within: '999999y' } }), /longer than 200 years/);
    usage(() => validatePolicy({ keep: { hourly: 1 }, extra: 1 }), /"extra" is not a field/);
    usage(() => validatePolicy({ services: { yammer: { last: 1 } } }), /"yammer" is not a service/);
    usage(() => validatePolicy([]), /must be a JSON object/);
  });

  test('durations use restic grammar', () => {
    assert.deepEqual(parseDuration('1y6m2d12h', 'x'), { years: 1, months: 6, days: 2, hours: 12, ms: parseDuration('1y6m2d12h', 'x').ms });
    usage(() => parseDuration('-3d', 'x'), /not a duration/);
  });
});
