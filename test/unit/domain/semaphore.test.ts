import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../../shared/domain/semaphore.ts';

describe('Semaphore', () => {
  it('gives at most max slots, serves waiters in order, and hands a released slot on', async () => {
    const s = new Semaphore(2);
    const a = s.tryAcquire();
    const b = await s.acquire();
    expect(a).not.toBeNull();
    expect(s.tryAcquire()).toBeNull();
    const order: string[] = [];
    const c = s.acquire().then((r) => {
      order.push('c');
      return r;
    });
    const d = s.acquire().then((r) => {
      order.push('d');
      return r;
    });
    expect(s.waiting).toBe(2);
    a?.();
    a?.(); // idempotent
    const rc = await c;
    expect(order).toEqual(['c']);
    expect(s.inUse).toBe(2);
    b();
    const rd = await d;
    expect(order).toEqual(['c', 'd']);
    rc();
    rd();
    expect(s.inUse).toBe(0);
    expect(s.tryAcquire()).not.toBeNull();
  });

  it('lets an aborted waiter leave the queue without taking a slot', async () => {
    const s = new Semaphore(1);
    const held = s.tryAcquire();
    const ac = new AbortController();
    const waiting = s.acquire(ac.signal);
    ac.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    expect(s.waiting).toBe(0);
    held?.();
    expect(s.inUse).toBe(0);
  });
});
