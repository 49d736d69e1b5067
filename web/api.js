// The JSON API client. Paths are relative to the page, so the dashboard
// also works when mounted under a prefix.

/** ApiError is an error answer of the API: {"error": {"code", "message"}}. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * url returns the URL of an API path with the non-empty params set; an
 * array repeats its parameter, in order.
 */
export function url(path, params = {}) {
  const u = new URL(path, document.baseURI);
  for (const [k, v] of Object.entries(params)) {
    for (const x of Array.isArray(v) ? v : [v]) {
      if (x !== undefined && x !== null && x !== '') u.searchParams.append(k, x);
    }
  }
  return u;
}

/** getJSON fetches an API path and returns its JSON, or throws an ApiError. */
export async function getJSON(path, params = {}) {
  let res;
  try {
    res = await fetch(url(path, params), { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'network', 'The server cannot be reached: is `bowtie serve` still running?');
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: handled below
  }
  if (!res.ok) {
    const err = body && body.error;
    throw new ApiError(res.status, err ? err.code : 'http_' + res.status, err ? err.message : `${res.status} ${res.statusText}`);
  }
  return body;
}
