import { queryError, type FieldTerm } from './query-parser.ts';

/**
 * Date values of `created`, `updated` and date custom fields: a calendar day (`2024-01-01`,
 * UTC), a date-time (`2024-01-01T10:00:00Z`), or a time relative to now (`4hours`, `2weeks`).
 * Each becomes a half-open interval [from, to) of instants the value stands for, so that
 * `:`, `<`, `>`, `<=` and `>=` all have one meaning: `created>2024-01-01` is after that day,
 * `created<2024-01-01` before it, `created:2024-01-01` during it. A relative value stands for
 * the instant that long ago: `created>4hours` is more recent than four hours ago,
 * `updated<2weeks` longer ago than two weeks (and `:` reads like `>`: within the last…).
 */
export interface DateBound {
  from: Date;
  to: Date;
  relative: boolean;
}

const UNITS: Record<string, 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year'> = {
  m: 'minute', min: 'minute', mins: 'minute', minute: 'minute', minutes: 'minute',
  h: 'hour', hr: 'hour', hrs: 'hour', hour: 'hour', hours: 'hour',
  d: 'day', day: 'day', days: 'day',
  w: 'week', week: 'week', weeks: 'week',
  month: 'month', months: 'month',
  y: 'year', year: 'year', years: 'year',
};

const MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000 } as const;

export function parseDateValue(term: FieldTerm, now: Date): DateBound {
  const text = term.value.trim().toLowerCase();
  const relative = /^(\d{1,6})\s*([a-z]+)$/.exec(text);
  if (relative?.[1] !== undefined && relative[2] !== undefined) {
    const unit = UNITS[relative[2]];
    if (!unit) throw queryError(`${term.keyword}: unknown time unit; use minutes, hours, days, weeks, months or years`, term.position);
    const amount = Number(relative[1]);
    const at = new Date(now.getTime());
    if (unit === 'month') at.setUTCMonth(at.getUTCMonth() - amount);
    else if (unit === 'year') at.setUTCFullYear(at.getUTCFullYear() - amount);
    else at.setTime(at.getTime() - amount * MS[unit]);
    // PostgreSQL's timestamps start in 4713 BC; anything before year 1 is out of range for us anyway.
    if (Number.isNaN(at.getTime()) || at.getUTCFullYear() < 1) throw queryError(`${term.keyword}: the time is out of range`, term.position);
    return { from: at, to: at, relative: true };
  }
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (day) {
    const [year, month, date] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const from = new Date(Date.UTC(year, month - 1, date));
    if (from.getUTCFullYear() !== year || from.getUTCMonth() !== month - 1 || from.getUTCDate() !== date) {
      throw queryError(`${term.keyword}: not a calendar date`, term.position);
    }
    return { from, to: new Date(from.getTime() + MS.day), relative: false };
  }
  if (/^\d{4}-\d{2}-\d{2}t\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(z|[+-]\d{2}:?\d{2})?$/.test(text)) {
    const at = new Date(text.toUpperCase().endsWith('Z') || /[+-]\d{2}:?\d{2}$/.test(text) ? text.toUpperCase() : `${text.toUpperCase()}Z`);
    if (Number.isNaN(at.getTime())) throw queryError(`${term.keyword}: not a valid date-time`, term.position);
    return { from: at, to: at, relative: false };
  }
  throw queryError(`${term.keyword} takes a date (2024-01-01), a date-time (2024-01-01T10:00:00Z) or a relative time (4hours, 2weeks)`, term.position);
}

/** The comparison `column <operator> value` as bounds: [from inclusive, to exclusive). */
export function dateRange(term: FieldTerm, now: Date): { gte?: Date; lt?: Date; gt?: Date; lte?: Date } {
  const bound = parseDateValue(term, now);
  const instant = bound.from.getTime() === bound.to.getTime();
  switch (term.operator) {
    case ':':
      return instant ? (bound.relative ? { gte: bound.from } : { gte: bound.from, lte: bound.from }) : { gte: bound.from, lt: bound.to };
    case '>':
      return instant ? { gt: bound.from } : { gte: bound.to };
    case '>=':
      return { gte: bound.from };
    case '<':
      return { lt: bound.from };
    case '<=':
      return instant ? { lte: bound.from } : { lt: bound.to };
  }
}
