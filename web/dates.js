// Calendar dates as ISO strings (YYYY-MM-DD). Arithmetic runs in UTC so
// that the browser's own time zone never shifts a date: the server has
// already cut days in the workspace's time zone.

const DAY = 86400000;

/** parse returns the Date at midnight UTC of an ISO date. */
export function parse(s) {
  return new Date(s + 'T00:00:00Z');
}

/** iso returns the ISO date of d (UTC). */
export function iso(d) {
  return d.toISOString().slice(0, 10);
}

/** isDate reports whether s is a valid ISO date. */
export function isDate(s) {
  return typeof s === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(parse(s).getTime()) && iso(parse(s)) === s;
}

/** addDays returns s moved by n days. */
export function addDays(s, n) {
  return iso(new Date(parse(s).getTime() + n * DAY));
}

/** days returns the number of days from a to b, both included. */
export function days(a, b) {
  return Math.round((parse(b) - parse(a)) / DAY) + 1;
}

/** today returns the browser's current date. */
export function today() {
  const d = new Date();
  return iso(new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate())));
}

/** bucketStart returns the first day of the week (Monday, ISO) or month holding s. */
export function bucketStart(s, grain) {
  const d = parse(s);
  if (grain === 'month') return iso(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)));
  if (grain === 'week') return addDays(s, -((d.getUTCDay() + 6) % 7));
  return s;
}

/** buckets lists the starts of every grain bucket that overlaps [from, to]. */
export function buckets(from, to, grain) {
  const out = [];
  let b = bucketStart(from, grain);
  while (b <= to && out.length < 10000) {
    out.push(b);
    if (grain === 'month') {
      const d = parse(b);
      b = iso(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)));
    } else {
      b = addDays(b, grain === 'week' ? 7 : 1);
    }
  }
  return out;
}

const fmtDay = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const fmtDayShort = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });
const fmtMonth = new Intl.DateTimeFormat(undefined, { month: 'short', year: 'numeric', timeZone: 'UTC' });

/** label returns a short human label for a bucket start. */
export function label(s, grain) {
  if (grain === 'month') return fmtMonth.format(parse(s));
  return fmtDayShort.format(parse(s));
}

/** range returns "1 Jan 2025 – 31 Mar 2025" for an inclusive range. */
export function range(from, to) {
  if (!from || !to) return '';
  return fmtDay.formatRange ? fmtDay.formatRange(parse(from), parse(to)) : `${fmtDay.format(parse(from))} – ${fmtDay.format(parse(to))}`;
}
