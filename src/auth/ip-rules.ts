// Per-key IP whitelists: each entry is an IPv4/IPv6 address or CIDR block.
import { BlockList, SocketAddress, isIPv4, isIPv6 } from 'node:net';

export interface IpRules {
  /** Normalised entries (canonical address text, `/prefix` only for blocks), for storage/printing. */
  readonly entries: string[];
  readonly list: BlockList;
}

export class InvalidIpRuleError extends Error {
  override name = 'InvalidIpRuleError';
  constructor(readonly entry: string) {
    super(`invalid IP address or CIDR block: ${JSON.stringify(entry)}`);
  }
}

const PREFIX = /^(?:0|[1-9][0-9]{0,2})$/;

/**
 * Parses a whitelist. An empty list yields rules that allow no address: "no whitelist" is
 * represented by `null`, never by an empty list.
 */
export function parseIpRules(entries: string[]): IpRules {
  const list = new BlockList();
  const normalised: string[] = [];
  for (const entry of entries) {
    const rule = parseEntry(entry);
    if (rule.prefix === null) list.addAddress(rule.address, rule.family);
    else list.addSubnet(rule.address, rule.prefix, rule.family);
    const text = rule.prefix === null ? rule.address : `${rule.address}/${rule.prefix}`;
    if (!normalised.includes(text)) normalised.push(text);
  }
  return { entries: normalised, list };
}

type Rule = { address: string; family: 'ipv4' | 'ipv6'; prefix: number | null };

function parseEntry(entry: string): Rule {
  if (typeof entry !== 'string') throw new InvalidIpRuleError(String(entry));
  const text = entry.trim();
  const slash = text.indexOf('/');
  const host = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? null : text.slice(slash + 1);

  // Zone ids (fe80::1%eth0) name a local interface, not an address; Node would drop them silently.
  const family = isIPv4(host) ? 'ipv4' : isIPv6(host) && !host.includes('%') ? 'ipv6' : null;
  if (family === null) throw new InvalidIpRuleError(entry);

  let prefix: number | null = null;
  if (prefixText !== null) {
    const max = family === 'ipv4' ? 32 : 128;
    if (!PREFIX.test(prefixText) || Number(prefixText) > max) throw new InvalidIpRuleError(entry);
    prefix = Number(prefixText);
  }
  // SocketAddress gives the canonical text (lower case, compressed IPv6).
  const address = new SocketAddress({ address: host, family }).address;
  return { address, family, prefix };
}

/**
 * Whether a client address passes the whitelist. `null` rules mean no whitelist. IPv4-mapped
 * IPv6 addresses (`::ffff:10.0.0.1`, as a dual-stack socket reports IPv4 clients) match IPv4
 * rules and vice versa.
 */
export function ipAllowed(rules: IpRules | null, remoteAddress: string | undefined): boolean {
  if (rules === null) return true;
  if (typeof remoteAddress !== 'string') return false;
  const family = isIPv4(remoteAddress) ? 'ipv4' : isIPv6(remoteAddress) ? 'ipv6' : null;
  if (family === null) return false;
  if (rules.list.check(remoteAddress, family)) return true;
  // Node's BlockList already matches mapped addresses against IPv4 rules; the explicit check
  // keeps that guarantee independent of the Node version.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress)?.[1];
  return mapped !== undefined && isIPv4(mapped) && rules.list.check(mapped, 'ipv4');
}
