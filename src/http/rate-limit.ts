/**
 * Per-account request budget over a fixed one-minute window, as Zendesk's API limits work.
 * In-process: one Roster process serves an account (PGlite is single-process; with PostgreSQL
 * each process enforces its own share).
 */
export class RateLimiter {
  private windowStart = 0;
  private readonly used = new Map<number, number>();

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request; returns what is left and, when over budget, how long to wait. */
  take(accountId: number): { remaining: number; retryAfterSeconds: number | null } {
    const now = this.now();
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now - (now % 60_000);
      this.used.clear();
    }
    const used = (this.used.get(accountId) ?? 0) + 1;
    this.used.set(accountId, used);
    if (used > this.perMinute) {
      return { remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil((this.windowStart + 60_000 - now) / 1000)) };
    }
    return { remaining: this.perMinute - used, retryAfterSeconds: null };
  }
}
