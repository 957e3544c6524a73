import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, isPortClash, retryOnPortClash } from '../../support/ports.ts';

const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

describe('lab server ports', () => {
  it('picks ports below the kernel ephemeral range, so no client socket can be handed one before the server binds it', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(ephemeralLow);
    }
    // Random, not one fixed port.
    expect(new Set(ports).size).toBeGreaterThan(1);
  });

  it('never returns a port that is already taken', async () => {
    const port = await freePort();
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      for (let i = 0; i < 30; i++) expect(await freePort()).not.toBe(port);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('recognises the bind errors of rbldnsd, unbound, Dovecot, Node and Java as a port clash, and nothing else', () => {
    expect(isPortClash(new Error('rbldnsd: unable to bind to 127.0.0.1/33823: Address already in use'))).toBe(true);
    expect(isPortClash(new Error("error: can't bind socket: Address already in use for 127.0.0.1 port 25000"))).toBe(
      true,
    );
    expect(isPortClash(new Error('listen(127.0.0.1, 25000) failed: Address already in use'))).toBe(true);
    expect(isPortClash(new Error('x', { cause: new Error('listen EADDRINUSE: address already in use') }))).toBe(true);
    expect(isPortClash(new Error('java.net.BindException: Address already in use'))).toBe(true);
    expect(isPortClash(new Error('rbldnsd exited (1): invalid zone file'))).toBe(false);
    expect(isPortClash(new Error('did not answer within 10000 ms'))).toBe(false);
  });

  it('restarts on a clash, at most three times in all, and throws any other failure at once', async () => {
    let calls = 0;
    const value = await retryOnPortClash(async () => {
      calls++;
      if (calls < 3) throw new Error('unable to bind to 127.0.0.1/1: Address already in use');
      return 'up';
    });
    expect([value, calls]).toEqual(['up', 3]);

    calls = 0;
    await expect(
      retryOnPortClash(async () => {
        calls++;
        throw new Error('Address already in use');
      }),
    ).rejects.toThrow('Address already in use');
    expect(calls).toBe(3);

    calls = 0;
    await expect(
      retryOnPortClash(async () => {
        calls++;
        throw new Error('bad zone file');
      }),
    ).rejects.toThrow('bad zone file');
    expect(calls).toBe(1);
  });
});
