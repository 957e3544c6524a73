/** What every digest medium shares: status words and colours (colour is never the only signal), escaping, numbers. */
import { clean, escapeHtml } from '../notify/escape.ts';
import type { DayStatus, PathSummary } from './model.ts';

/** Cell text and colours (WCAG AA contrast on each background). */
export const STATUS_STYLE: Readonly<Record<DayStatus, { label: string; word: string; bg: string; fg: string }>> = {
  pass: { label: 'OK', word: 'up', bg: '#1b7f3b', fg: '#ffffff' },
  warn: { label: 'WARN', word: 'up with warnings', bg: '#f2c200', fg: '#1a1a1a' },
  fail: { label: 'FAIL', word: 'down', bg: '#c0262d', fg: '#ffffff' },
  unknown: { label: 'UNK', word: 'unknown', bg: '#6b6b6b', fg: '#ffffff' },
  none: { label: '–', word: 'not run', bg: '#e6e6e6', fg: '#444444' },
};

export const LEGEND = 'OK = up · WARN = up with warnings · FAIL = down · UNK = unknown (could not tell) · – = not run';

/** Untrusted text for HTML: control characters out, one line, escaped. */
export function h(value: string): string {
  return escapeHtml(clean(value));
}

/** Untrusted multi-line text for HTML (line breaks kept as <br>). */
export function hMultiline(value: string): string {
  return escapeHtml(clean(value, true)).replace(/\n/g, '<br>');
}

/** Untrusted text for the plain-text part: control characters out, one line. */
export function t(value: string): string {
  return clean(value);
}

export function percent(value: number | null): string {
  return value === null ? 'n/a' : `${value.toFixed(2)} %`;
}

export function ms(value: number | null): string {
  return value === null ? 'n/a' : `${Math.round(value)} ms`;
}

/** `99.85 % (2 of 1,344 results down; 12 unknown)` */
export function availabilityPhrase(p: PathSummary): string {
  const decided = p.counts.pass + p.counts.warn + p.counts.fail;
  if (p.counts.pass + p.counts.warn + p.counts.fail + p.counts.unknown === 0) return 'not run this week';
  if (decided === 0) return `n/a (all ${p.counts.unknown} results unknown)`;
  const unknown = p.counts.unknown > 0 ? `; ${p.counts.unknown} unknown` : '';
  return `${percent(p.availability)} (${p.counts.fail} of ${decided} results down${unknown})`;
}

/** A colour from the config (`#RRGGBB`, validated there); anything else falls back, never reaches a style raw. */
export function safeColour(value: string): string {
  return /^#[0-9a-fA-F]{6}$/.test(value) ? value : '#0a5fb4';
}

/** Black or white text, whichever reads on the accent colour. */
export function textOn(bg: string): string {
  const n = Number.parseInt(safeColour(bg).slice(1), 16);
  const lum = (0.299 * ((n >> 16) & 255) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255)) / 255;
  return lum > 0.6 ? '#1a1a1a' : '#ffffff';
}
