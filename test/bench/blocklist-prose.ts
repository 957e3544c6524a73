/** The blocklist bench's reading of its own wall times (kept apart so that a unit test can check it). */
/**
 * What the wall times say about the engine, the resolver stack and dnsbl, and nothing more: the engine's cost is
 * the engine's median beyond the bare resolver stack's (beyond 15%, the run-to-run noise on a shared machine); a gap
 * to dnsbl is only described when there is one (our median above the peer's), and put on the resolver stack only
 * when the stack alone is slower than dnsbl.
 */
export function layersSentence(oursMs: number, bareMs: number, peerMs: number): string {
  const round = (v: number) => Math.round(v);
  const engineAdds = oursMs > 1.15 * bareMs;
  const engine = engineAdds
    ? `The engine's own scheduling adds about ${round(oursMs - bareMs)} ms of wall time over the bare resolver stack ` +
      'here: `runBlocklists` starts every (IP, zone) pair at once (one async task per pair, all queued on the ' +
      "per-zone and overall semaphores, then again on the resolver's own semaphore), which keeps tens of thousands " +
      'of promises and closures alive and shows up as garbage-collection time in a CPU profile.'
    : 'In this run the engine added no wall time over the bare resolver stack beyond the run-to-run noise (within 15%).';
  if (oursMs <= peerMs) {
    return (
      `${engine} relaywatch was the faster of the two here (${round(oursMs)} ms against ${round(peerMs)} ms), so ` +
      `there is no gap to dnsbl to explain; the resolver stack alone took ${round(bareMs)} ms.`
    );
  }
  const gap = `relaywatch was ${round(oursMs - peerMs)} ms slower than dnsbl here (${round(oursMs)} against ${round(peerMs)} ms)`;
  if (bareMs > peerMs) {
    return (
      `${engine} ${gap}; the resolver stack alone (${round(bareMs)} ms) is already slower than dnsbl, so ` +
      `${engineAdds ? 'the rest of ' : ''}the gap is in the resolver stack (our JavaScript UDP adapter, cache and ` +
      'failover layers against c-ares).'
    );
  }
  return (
    `${engine} ${gap}; the resolver stack alone (${round(bareMs)} ms) is not slower than dnsbl, so the gap is in the ` +
    'engine, not in the resolver stack.'
  );
}
