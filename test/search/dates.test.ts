import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/http/errors.ts';
import { dateRange } from '../../src/search/dates.ts';
import { parseQuery, type FieldTerm } from '../../src/search/query-parser.ts';

const now = new Date('2026-11-22T12:00:00Z');
const term = (text: string): FieldTerm => {
  const [parsed] = parseQuery(text).terms;
  if (parsed?.kind !== 'field') throw new Error('not a field term');
  return parsed;
};
const iso = (range: Record<string, Date | undefined>) => Object.fromEntries(Object.entries(range).map(([key, value]) => [key, value?.toISOString()]));

describe('dateRange', () => {
  it('reads a calendar day as the UTC day: after, before, during', () => {
    expect(iso(dateRange(term('created>2024-01-01'), now))).toEqual({ gte: '2024-01-02T00:00:00.000Z' });
    expect(iso(dateRange(term('created>=2024-01-01'), now))).toEqual({ gte: '2024-01-01T00:00:00.000Z' });
    expect(iso(dateRange(term('created<2024-01-01'), now))).toEqual({ lt: '2024-01-01T00:00:00.000Z' });
    expect(iso(dateRange(term('created<=2024-01-01'), now))).toEqual({ lt: '2024-01-02T00:00:00.000Z' });
    expect(iso(dateRange(term('created:2024-01-01'), now))).toEqual({ gte: '2024-01-01T00:00:00.000Z', lt: '2024-01-02T00:00:00.000Z' });
  });

  it('reads a relative time as that long ago: > is more recent, < is older', () => {
    expect(iso(dateRange(term('created>4hours'), now))).toEqual({ gt: '2026-11-22T08:00:00.000Z' });
    expect(iso(dateRange(term('updated<2weeks'), now))).toEqual({ lt: '2026-11-08T12:00:00.000Z' });
    expect(iso(dateRange(term('created>30minutes'), now))).toEqual({ gt: '2026-11-22T11:30:00.000Z' });
    expect(iso(dateRange(term('created>3days'), now))).toEqual({ gt: '2026-11-19T12:00:00.000Z' });
    expect(iso(dateRange(term('created>1month'), now))).toEqual({ gt: '2026-10-22T12:00:00.000Z' });
    expect(iso(dateRange(term('created>2years'), now))).toEqual({ gt: '2024-11-22T12:00:00.000Z' });
    expect(iso(dateRange(term('created:4hours'), now))).toEqual({ gte: '2026-11-22T08:00:00.000Z' });
  });

  it('reads date-times, with or without a zone', () => {
    expect(iso(dateRange(term('created>2024-01-01T10:00:00Z'), now))).toEqual({ gt: '2024-01-01T10:00:00.000Z' });
    expect(iso(dateRange(term('created<2024-01-01T10:00'), now))).toEqual({ lt: '2024-01-01T10:00:00.000Z' });
    expect(iso(dateRange(term('created>2024-01-01T10:00:00+02:00'), now))).toEqual({ gt: '2024-01-01T08:00:00.000Z' });
  });

  it.each(['created>yesterday', 'created>2024-13-01', 'created>4parsecs', 'created>2024-01-01T25:00', 'created>999999999years', 'created>200000years', 'created>99999months'])('refuses %s with a 400', (text) => {
    try {
      dateRange(term(text), now);
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).status).toBe(400);
    }
  });
});
