import { describe, expect, it } from 'vitest';
import { layersSentence } from '../bench/blocklist-prose.ts';

describe("the blocklist bench's reading of its wall times", () => {
  it('says there is no gap to dnsbl when relaywatch is the faster, and blames nothing for one', () => {
    // The figures of the 2026-11-27 run: ours 814 ms, the bare resolver stack 893 ms, dnsbl 874 ms.
    const text = layersSentence(814, 893, 874);
    expect(text).toContain('relaywatch was the faster of the two here (814 ms against 874 ms)');
    expect(text).toContain('no gap to dnsbl to explain');
    expect(text).not.toContain('the gap is in the resolver stack');
  });

  it('puts a gap on the resolver stack only when the stack alone is slower than dnsbl', () => {
    expect(layersSentence(950, 940, 874)).toContain('so the gap is in the resolver stack');
    expect(layersSentence(1200, 900, 874)).toContain('the rest of the gap is in the resolver stack');
    const engine = layersSentence(1100, 860, 874);
    expect(engine).toContain('the gap is in the engine, not in the resolver stack');
    expect(engine).toContain("The engine's own scheduling adds about 240 ms");
  });
});
