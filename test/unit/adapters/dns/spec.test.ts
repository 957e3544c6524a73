import { describe, expect, it } from 'vitest';
import {
  CachingResolver,
  createResolver,
  DEFAULT_DNS,
  DnsSpecError,
  parseDnsSpec,
} from '../../../../shared/adapters/dns/index.ts';

describe('parseDnsSpec', () => {
  it.each([
    ['doh:https://cloudflare-dns.com/dns-query', { kind: 'doh', url: 'https://cloudflare-dns.com/dns-query' }],
    ['https://dns.google/dns-query', { kind: 'doh', url: 'https://dns.google/dns-query' }],
    ['DoH:https://127.0.0.1:8443/dns-query', { kind: 'doh', url: 'https://127.0.0.1:8443/dns-query' }],
    ['doh:https://[::1]:8443/q?key=1', { kind: 'doh', url: 'https://[::1]:8443/q?key=1' }],
    ['udp://127.0.0.1', { kind: 'udp', host: '127.0.0.1', port: 53 }],
    ['udp://127.0.0.1:5353', { kind: 'udp', host: '127.0.0.1', port: 5353 }],
    ['udp://[::1]:5353', { kind: 'udp', host: '::1', port: 5353 }],
    ['udp://[2001:db8::53]', { kind: 'udp', host: '2001:db8::53', port: 53 }],
    [' tcp://192.0.2.1:53/ ', { kind: 'tcp', host: '192.0.2.1', port: 53 }],
  ])('accepts %s', (spec, expected) => {
    expect(parseDnsSpec(spec)).toEqual(expected);
  });

  it.each([
    ['', 'empty'],
    ['8.8.8.8', 'udp://8.8.8.8'],
    ['8.8.8.8:53', 'needs a scheme'],
    ['dns.google', 'unknown scheme'],
    ['http://dns.google/dns-query', 'https'],
    ['doh:dns.google/dns-query', 'not a valid URL'],
    ['doh:https://dns.google/dns-query#x', 'fragment'],
    ['udp://dns.google', 'needs an IP address'],
    ['udp://127.0.0.1:99999', 'not a valid address'],
    ['udp://127.0.0.1:0', 'port out of range'],
    ['udp://127.0.0.1/path', 'no path'],
    ['udp://user@127.0.0.1', 'no user'],
    ['tls://1.1.1.1', 'unknown scheme'],
  ])('rejects %j clearly (%s)', (spec, problem) => {
    let error: unknown;
    try {
      parseDnsSpec(spec);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DnsSpecError);
    expect(error).toMatchObject({ name: 'DnsSpecError', spec });
    const message = (error as Error).message;
    expect(message).toContain(problem);
    expect(message).toContain('accepted forms: doh:https://host[:port]/path');
    expect(message).toContain('udp://IP[:port]');
  });

  it('accepts every default', () => {
    for (const spec of DEFAULT_DNS) expect(parseDnsSpec(spec).kind).toBe('doh');
  });
});

describe('createResolver', () => {
  it('builds cache over failover over the adapters, in the given order', async () => {
    const stack = createResolver({
      specs: ['doh:https://user:secret@127.0.0.1:9/dns-query?token=x', 'udp://127.0.0.1:9', 'tcp://[::1]:9'],
    });
    expect(stack.resolver).toBeInstanceOf(CachingResolver);
    expect(stack.resolver.describe()).toBe('doh:https://127.0.0.1:9/dns-query, udp://127.0.0.1:9, tcp://[::1]:9');
    await stack.close();
    await stack.close();
  });

  it('uses the public DoH defaults when no spec is given, and rejects an empty list or a bad spec', async () => {
    const stack = createResolver();
    expect(stack.resolver.describe()).toBe(
      'doh:https://cloudflare-dns.com/dns-query, doh:https://dns.google/dns-query',
    );
    await stack.close();
    expect(() => createResolver({ specs: [] })).toThrow(DnsSpecError);
    expect(() => createResolver({ specs: ['udp://127.0.0.1', 'nonsense'] })).toThrow(/nonsense/);
  });
});
