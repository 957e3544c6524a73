/** Types for the parts of mailauth (7.x) that read headers; mailauth ships no declarations for these modules. */
// lib/tools.js: only test/unit/confirm/header-rows.test.ts imports it (the functions use the copy in header-rows.ts).
declare module 'mailauth/lib/tools.js' {
  export interface ParsedHeaderRow {
    /** Lower-case field name; null for a line that is not a field. */
    readonly key: string | null;
    readonly casedKey?: string;
    /** The whole field, folds included. */
    readonly line: Buffer;
  }
  export function parseHeaders(buf: Buffer): { parsed: ParsedHeaderRow[]; original: Buffer };
}

declare module 'mailauth/lib/parse-dkim-headers.js' {
  /** One method's result: `value` is the result (`pass`), properties by ptype (`smtp.mailfrom` → `{ smtp: { mailfrom } }`). */
  export interface ArEntry {
    readonly value: string;
    readonly comment?: string;
    readonly [ptype: string]: unknown;
  }
  export interface ParsedAuthResults {
    readonly header?: string;
    /** The authserv-id: the first part with no `=` (absent in Exchange Online's own header). */
    readonly value?: string;
    readonly dkim?: readonly ArEntry[];
    readonly [method: string]: unknown;
  }
  export default function headerParser(buf: Buffer | string): { parsed: ParsedAuthResults; original: Buffer | string };
}

declare module 'mailauth/lib/parse-received.js' {
  export interface ReceivedPart {
    readonly value: string;
    readonly comment?: string;
  }
  export interface ParsedReceived {
    readonly from?: ReceivedPart;
    readonly by?: ReceivedPart;
    readonly with?: ReceivedPart;
    readonly id?: ReceivedPart;
    readonly timestamp?: string;
    readonly full: string;
  }
  export function parseReceived(buf: Buffer | string): ParsedReceived | false;
  export function getClientAddress(from: ReceivedPart | undefined): string | false;
}
