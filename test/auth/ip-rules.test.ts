import { describe, expect, it } from 'vitest';
import { InvalidIpRuleError, ipAllowed, parseIpRules } from '../../src/auth/ip-rules.ts';

describe('parseIpRules', () => {
  it('normalises addresses and blocks for storage', () => {
    const rules = parseIpRules([
      ' 10.0.0.1 ',
      '192.168.0.0/16',
      '2001:0DB8:0:0::1',
      '2001:DB8::/32',
      '10.0.0.1',
    ]);
    expect(rules.entries).toEqual(['10.0.0.1', '192.168.0.0/16', '2001:db8::1', '2001:db8::/32']);
  });

  it.each([
    '',
    'localhost',
    '10.0.0',
    '10.0.0.256',
    '010.0.0.1',
    '10.0.0.0/33',
    '10.0.0.0/',
    '10.0.0.0/08',
    '10.0.0.0/-1',
    '10.0.0.0/8/8',
    '/8',
    '2001:db8::/129',
    '2001:db8:::1',
    'fe80::1%eth0',
    '10.0.0.0 /8',
  ])('rejects %j, naming it', (entry) => {
    expect(() => parseIpRules(['10.0.0.1', entry])).toThrow(InvalidIpRuleError);
    try {
      parseIpRules([entry]);
    } catch (e) {
      expect((e as InvalidIpRuleError).entry).toBe(entry);
      expect((e as Error).message).toContain(JSON.stringify(entry));
    }
  });
});

describe('ipAllowed', () => {
  const rules = parseIpRules(['10.0.0.1', '192.168.0.0/16', '2001:db8::/32']);

  it('allows everything without a whitelist', () => {
    expect(ipAllowed(null, '203.0.113.9')).toBe(true);
    expect(ipAllowed(null, undefined)).toBe(true);
  });

  it('matches single addresses and blocks', () => {
    expect(ipAllowed(rules, '10.0.0.1')).toBe(true);
    expect(ipAllowed(rules, '10.0.0.2')).toBe(false);
    expect(ipAllowed(rules, '192.168.200.7')).toBe(true);
    expect(ipAllowed(rules, '192.169.0.1')).toBe(false);
    expect(ipAllowed(rules, '2001:db8:ffff::1')).toBe(true);
    expect(ipAllowed(rules, '2001:DB8::1')).toBe(true);
    expect(ipAllowed(rules, '2001:db9::1')).toBe(false);
  });

  it('matches IPv4-mapped IPv6 addresses against IPv4 rules', () => {
    expect(ipAllowed(rules, '::ffff:10.0.0.1')).toBe(true);
    expect(ipAllowed(rules, '::FFFF:192.168.1.1')).toBe(true);
    expect(ipAllowed(rules, '::ffff:10.0.0.2')).toBe(false);
  });

  it('matches IPv4 addresses against IPv4-mapped rules', () => {
    const mapped = parseIpRules(['::ffff:10.0.0.0/104']);
    expect(ipAllowed(mapped, '10.1.2.3')).toBe(true);
    expect(ipAllowed(mapped, '11.0.0.1')).toBe(false);
  });

  it('refuses unknown or malformed client addresses under a whitelist', () => {
    expect(ipAllowed(rules, undefined)).toBe(false);
    expect(ipAllowed(rules, '')).toBe(false);
    expect(ipAllowed(rules, 'not-an-ip')).toBe(false);
    expect(ipAllowed(rules, '10.0.0.1.5')).toBe(false);
  });

  it('allows nothing with an empty whitelist', () => {
    const empty = parseIpRules([]);
    expect(empty.entries).toEqual([]);
    expect(ipAllowed(empty, '10.0.0.1')).toBe(false);
    expect(ipAllowed(empty, '::1')).toBe(false);
  });

  it('treats a /0 block as every address of its family', () => {
    const all4 = parseIpRules(['0.0.0.0/0']);
    expect(ipAllowed(all4, '203.0.113.9')).toBe(true);
    expect(ipAllowed(all4, '2001:db8::1')).toBe(false);
  });
});
