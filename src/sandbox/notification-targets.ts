// Where the sandbox may post Danal's deposit notification: the service's own
// notification URL (or a configured list), and an order's notiUrl under it
// (the same path plus one segment, the order's token). Anything else is
// refused, so that the sandbox cannot be made to fetch an internal URL.

const TOKEN_SEGMENT = /^[A-Za-z0-9_-]{1,128}$/;

/** True when `candidate` is one of `allowed`, or one of them plus a single token segment. */
export function isAllowedNotiUrl(candidate: string, allowed: readonly string[]): boolean {
  if (!URL.canParse(candidate)) return false;
  const url = new URL(candidate);
  if (url.username || url.password || url.hash) return false;
  return allowed.some((entry) => {
    if (!URL.canParse(entry)) return false;
    const base = new URL(entry);
    if (url.origin !== base.origin || url.search !== base.search) return false;
    const basePath = base.pathname.replace(/\/$/, '');
    if (url.pathname === basePath || url.pathname === `${basePath}/`) return true;
    return url.pathname.startsWith(`${basePath}/`) && TOKEN_SEGMENT.test(url.pathname.slice(basePath.length + 1));
  });
}
