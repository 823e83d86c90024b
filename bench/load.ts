/**
 * Load generation: autocannon for closed-loop runs (fixed connections; also its `overallRate`),
 * and a small open-loop driver that sends at evenly spaced instants, because autocannon's
 * rate limit releases each connection's quota in a burst at the start of every second.
 */
import fs from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon, { type RequestData } from 'autocannon';

export interface LoadResult {
  /** Responses per second over the measured window. */
  rps: number;
  responses: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Responses outside 2xx plus connection errors and timeouts: must be 0 for a valid run. */
  failures: number;
  seconds: number;
  /** Every latency, sorted (to pool repeated runs). */
  samples: number[];
}

/** Produces the next request; `seq` is unique within the process (unique emails for POST). */
export type RequestFactory = (seq: number) => RequestData;

let sequence = 0;

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

function summarise(latencies: number[], responses: number, failures: number, seconds: number): LoadResult {
  const list = Array.from(Float64Array.from(latencies).sort());
  return {
    rps: responses / seconds,
    responses,
    p50: percentile(list, 50),
    p95: percentile(list, 95),
    p99: percentile(list, 99),
    max: list[list.length - 1] ?? Number.NaN,
    failures,
    seconds,
    samples: list,
  };
}

/** Several runs of the same thing as one: mean rate, percentiles over all their requests. */
export function pool(results: LoadResult[]): LoadResult {
  const samples = results.flatMap((result) => result.samples);
  const seconds = results.reduce((sum, result) => sum + result.seconds, 0);
  const responses = results.reduce((sum, result) => sum + result.responses, 0);
  const failures = results.reduce((sum, result) => sum + result.failures, 0);
  const pooled = summarise(samples, responses, failures, seconds);
  return { ...pooled, rps: results.reduce((sum, result) => sum + result.rps, 0) / Math.max(1, results.length) };
}

/**
 * Closed loop: `connections` keep-alive connections, each sending its next request when the
 * previous answer arrives. With `overallRate`, autocannon caps each connection per second.
 * Latencies are collected from each response (autocannon's own histogram "corrects" rated runs
 * with a 1 ms expected interval, which skews percentiles), as raw per-request times.
 */
export function runAutocannon(options: {
  url: string;
  connections: number;
  duration: number;
  overallRate?: number;
  request: RequestFactory;
}): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let ok = 0;
    let bad = 0;
    const started = performance.now();
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.duration,
        timeout: 10,
        ...(options.overallRate ? { overallRate: options.overallRate } : {}),
        requests: [{ setupRequest: (defaults) => ({ ...defaults, ...options.request((sequence += 1)) }) }],
      },
      (error, result) => {
        if (error) return reject(error);
        const seconds = Math.max(0.001, (performance.now() - started) / 1000);
        const failures = bad + result.errors + result.timeouts;
        resolve(summarise(latencies, ok + bad, failures, Math.min(seconds, result.duration || seconds)));
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) {
        ok += 1;
        latencies.push(responseTime);
      } else {
        bad += 1;
      }
    });
  });
}

/**
 * Open loop: request k is due at start + k / rate, whatever happened to the earlier ones, and its
 * latency counts from that instant (so a stalled server is not hidden by a client that waits:
 * no coordinated omission). Bounded: rate × duration requests, then wait for the stragglers.
 */
export async function runPaced(options: {
  url: string;
  rate: number;
  duration: number;
  request: RequestFactory;
  maxSockets?: number;
  /** Seconds after the last scheduled request before what is still outstanding is abandoned. */
  grace?: number;
}): Promise<LoadResult> {
  const target = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 128 });
  const total = Math.round(options.rate * options.duration);
  const interval = 1000 / options.rate;
  const latencies: number[] = [];
  let done = 0;
  let sent = 0;
  const start = performance.now() + 5;
  let lastDone = start;

  let deadline: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    // An overloaded server would otherwise leave a backlog of minutes: cut it off, and count
    // what did not complete as failed (and as infinitely slow in the percentiles).
    deadline = setTimeout(() => {
      agent.destroy();
      resolve();
    }, (options.duration + (options.grace ?? 5)) * 1000);
    const finish = (): void => {
      done += 1;
      lastDone = performance.now();
      if (done === total) resolve();
    };
    const fire = (due: number): void => {
      const spec = options.request((sequence += 1));
      const body = spec.body === undefined ? undefined : Buffer.from(spec.body);
      const request = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: spec.method ?? 'GET',
          path: spec.path ?? '/',
          headers: { ...(spec.headers ?? {}), ...(body ? { 'content-length': String(body.length) } : {}) },
          timeout: 10_000,
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            if (status >= 200 && status < 300) latencies.push(performance.now() - due);
            finish();
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', () => finish());
      request.end(body);
    };
    const tick = (): void => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        fire(start + sent * interval);
        sent += 1;
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    setTimeout(tick, 5);
  });
  clearTimeout(deadline);
  agent.destroy();
  const abandoned = total - latencies.length;
  for (let i = 0; i < abandoned; i += 1) latencies.push(Number.POSITIVE_INFINITY);
  return summarise(latencies, latencies.length - abandoned, abandoned, Math.max(0.001, (lastDone - start) / 1000));
}

/** Busy and total jiffies of the whole machine, from /proc/stat (Linux); null elsewhere. */
export function machineCpu(): { busy: number; total: number } | null {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const total = fields.reduce((sum, value) => sum + value, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}
