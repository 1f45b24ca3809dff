// A set of IP addresses and CIDR ranges (NOTI_ALLOWED_IPS), matched with
// node's BlockList. IPv4 clients of a dual-stack socket arrive as
// ::ffff:a.b.c.d and are matched as the IPv4 address they are.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export const normalizeIp = (ip: string) => (ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip);

export class AddressList {
  private readonly list = new BlockList();

  /** Entries as config validated them: addresses or CIDRs, IPv4 or IPv6. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [written, prefix] = entry.split('/') as [string, string | undefined];
      const address = prefix === undefined ? normalizeIp(written) : written;
      const family = isIPv6(address) ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.list.addAddress(address, family);
      else this.list.addSubnet(address, Number(prefix), family);
    }
  }

  has(ip: string): boolean {
    const address = normalizeIp(ip);
    if (isIPv4(address)) return this.list.check(address, 'ipv4');
    return isIPv6(address) && this.list.check(address, 'ipv6');
  }
}
