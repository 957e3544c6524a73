/**
 * The size DynamoDB bills an item at (the rules of "Item sizes and formats" in the DynamoDB developer guide): every
 * attribute name's UTF-8 bytes plus its value's size. Strings count their UTF-8 bytes, binaries their bytes, numbers
 * about one byte per two significant digits plus one, booleans and nulls one byte, lists and maps three bytes plus one
 * per element plus the elements (a map's keys count like attribute names). Write units are 1 per started KB.
 */

function valueBytes(v: unknown): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (typeof v === 'number') {
    const digits = String(Math.abs(v)).replace('.', '').replace(/^0+/, '').replace(/e.*$/, '').length || 1;
    return Math.ceil(digits / 2) + 1;
  }
  if (v instanceof Uint8Array) return v.byteLength;
  if (Array.isArray(v)) return 3 + v.reduce<number>((sum, x) => sum + 1 + valueBytes(x), 0);
  if (v instanceof Set) return [...v].reduce<number>((sum, x) => sum + valueBytes(x), 0);
  if (typeof v === 'object') {
    return (
      3 +
      Object.entries(v as Record<string, unknown>).reduce(
        (sum, [k, x]) => sum + 1 + Buffer.byteLength(k, 'utf8') + valueBytes(x),
        0,
      )
    );
  }
  return Buffer.byteLength(String(v), 'utf8');
}

/** An item's billed size in bytes (attribute names plus values). */
export function dynamoItemBytes(item: Record<string, unknown>): number {
  return Object.entries(item).reduce((sum, [k, v]) => sum + Buffer.byteLength(k, 'utf8') + valueBytes(v), 0);
}

/** The size of an item's entry in an index: the table's key, the index key and the projected attributes. */
export function indexEntryBytes(
  item: Record<string, unknown>,
  keys: readonly string[],
  projected: readonly string[] | 'ALL',
): number {
  if (projected === 'ALL') return dynamoItemBytes(item);
  const picked = Object.fromEntries(
    Object.entries(item).filter(([k]) => keys.includes(k) || (projected as readonly string[]).includes(k)),
  );
  return dynamoItemBytes(picked);
}
