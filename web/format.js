// Number formatting by column kind (count, money, ratio, percent), in the
// browser's locale and the workspace's currency.

const cache = new Map();

function nf(opts) {
  const key = JSON.stringify(opts);
  let f = cache.get(key);
  if (!f) {
    f = new Intl.NumberFormat(undefined, opts);
    cache.set(key, f);
  }
  return f;
}

/** isNum reports whether v is a finite number (null ratios are not). */
export function isNum(v) {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * format returns v formatted for kind; '' for a missing value, so an
 * undefined ratio shows as an empty cell, never as 0 or Infinity.
 * opts.compact abbreviates large numbers (axis labels).
 */
export function format(kind, v, currency, opts = {}) {
  if (!isNum(v)) return '';
  const abs = Math.abs(v);
  switch (kind) {
    case 'money':
      if (opts.compact && abs >= 1000) {
        return nf({ style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 }).format(v);
      }
      if (abs >= 1000 || opts.compact) {
        return nf({ style: 'currency', currency, minimumFractionDigits: 0, maximumFractionDigits: 0 }).format(v);
      }
      return nf({ style: 'currency', currency }).format(v);
    case 'count':
      if (opts.compact && abs >= 10000) return nf({ notation: 'compact', maximumFractionDigits: 1 }).format(v);
      return nf({ maximumFractionDigits: 0 }).format(v);
    case 'ratio':
      return nf({ minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(v) + '×';
    case 'percent':
      return nf({ style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(v);
  }
  return nf({ maximumFractionDigits: 2 }).format(v);
}

/** signed formats a change: +12.3 % or −4.0 pp. */
export function signedPercent(v) {
  return nf({ style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(v);
}

/** signedPoints formats a difference of two shares in percentage points. */
export function signedPoints(v) {
  return nf({ minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(v * 100) + ' pp';
}

/** raw returns the data-value attribute for v: the number as JSON has it, or ''. */
export function raw(v) {
  return isNum(v) ? String(v) : '';
}
