// PostgreSQL's jsonb (and text) cannot hold NUL, and its JSON parser refuses a
// lone UTF-16 surrogate, which JSON.stringify writes as "\ud800". Client
// input stored as JSON goes through here: both become U+FFFD, in keys and
// values alike, so a hostile body can still be recorded.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const clean = (s: string) => s.replace(LONE_SURROGATE, '\ufffd').replaceAll('\u0000', '\ufffd');

export function storable<T>(value: T): T {
  if (typeof value === 'string') return clean(value) as T;
  if (Array.isArray(value)) return value.map(storable) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [clean(k), storable(v)])) as T;
  }
  return value;
}
