import type { AddressInfo } from 'node:net';
import zendesk from 'node-zendesk';
import type { TestApp } from '../helpers.ts';

/**
 * node-zendesk v6 ships generated typings that do not match what it does at run time
 * (`request` is typed `Promise<NodeModule>`, `createMany` takes an array but posts its argument
 * as the body, `getAll` returns `any[]`). This is the part of its surface these tests use, typed
 * as the library really behaves (dist/index.js), with every payload left `unknown` to narrow.
 */

/** A path as node-zendesk takes it: segments, optionally ending with a query object. */
export type ZendeskPath = string | (string | number | Record<string, unknown>)[];

export interface ZendeskResponse {
  status: number;
  statusText: string;
  headers: { get(name: string): string | null };
}

/** What every non-paginating call resolves to: `result` is the body, unwrapped from the client's `jsonAPINames` key. */
export interface ApiResponse {
  response: ZendeskResponse;
  result: unknown;
}

export interface RequestEvent {
  type: string;
  detail: { uri: string; method: string };
}

/** Methods every resource client inherits from node-zendesk's `Client`. */
export interface ResourceClient {
  request(method: string, path: ZendeskPath, body?: object): Promise<ApiResponse>;
  get(path: ZendeskPath): Promise<ApiResponse>;
  post(path: ZendeskPath, body: object): Promise<ApiResponse>;
  put(path: ZendeskPath, body?: object): Promise<ApiResponse>;
  /** Follows `links.next` / `next_page` until there is none; resolves to the flattened items. */
  getAll(path: ZendeskPath): Promise<unknown[]>;
  requestAll(method: string, path: ZendeskPath, body?: object): Promise<unknown[]>;
  on(event: 'debug::request', listener: (event: RequestEvent) => void): void;
}

export interface UsersClient extends ResourceClient {
  list(): Promise<unknown[]>;
  listWithFilter(type: string, value: string | number): Promise<unknown[]>;
  show(id: number): Promise<ApiResponse>;
  showMany(ids: number[]): Promise<ApiResponse>;
  create(body: object): Promise<ApiResponse>;
  createMany(body: object): Promise<ApiResponse>;
  update(id: number, body: object): Promise<ApiResponse>;
  /**
   * PUT users/update_many. node-zendesk 6.0.1 reads its arguments oddly: with exactly two it
   * sends the FIRST as the body (so its own `updateMany(ids, changes)` example sends the ids);
   * with three it sends `?ids=<first>` and the second as the body.
   */
  updateMany(...args: unknown[]): Promise<ApiResponse>;
  me(): Promise<ApiResponse>;
  auth(): Promise<ApiResponse>;
}

export interface UserIdentitiesClient extends ResourceClient {
  list(userId: number): Promise<unknown[]>;
  show(userId: number, identityId: number): Promise<ApiResponse>;
  /** Wraps a bare identity in `{ identity }` itself. */
  create(userId: number, identity: object): Promise<ApiResponse>;
  update(userId: number, identityId: number, body: object): Promise<ApiResponse>;
  makePrimary(userId: number, identityId: number): Promise<ApiResponse>;
}

export interface JobStatusesClient extends ResourceClient {
  show(id: string): Promise<ApiResponse>;
  showMany(ids: string[]): Promise<ApiResponse>;
  /** Polls until the job is completed, failed or killed; resolves to the `job_status` object. */
  watch(id: string, intervalMs: number, maxNotFound: number): Promise<unknown>;
}

export interface OAuthClientsClient extends ResourceClient {
  /** Wraps its argument in `{ client }` itself. */
  create(client: object): Promise<ApiResponse>;
}

export interface OAuthTokensClient extends ResourceClient {
  create(body: object): Promise<ApiResponse>;
}

export interface Zendesk {
  users: UsersClient;
  useridentities: UserIdentitiesClient;
  jobstatuses: JobStatusesClient;
  oauthclients: OAuthClientsClient;
  oauthtokens: OAuthTokensClient;
}

/** The error node-zendesk throws with `throwOriginalException` (and always from `getAll`). */
export interface ZendeskError extends Error {
  statusCode: number;
  result: unknown;
}

export function isZendeskError(error: unknown): error is ZendeskError {
  return error instanceof Error && typeof (error as Partial<ZendeskError>).statusCode === 'number' && 'result' in error;
}

/** The base URI the client is pointed at: the listening server's `/api/v2`. */
export function endpointUri(t: TestApp): string {
  const address = t.runtime.app.server.address() as AddressInfo | string | null;
  if (address === null || typeof address === 'string') throw new Error('the server is not listening on TCP');
  return `http://127.0.0.1:${address.port}/api/v2`;
}

export interface ConnectOptions {
  throwOriginalException?: boolean;
  /** Defaults to the owner's email and API token (`email/token:secret`). */
  username?: string;
  token?: string;
  password?: string;
  useOAuth?: boolean;
}

/** A real node-zendesk client pointed at the listening test app, by default as its owner with an API token. */
export function connect(t: TestApp, options: ConnectOptions = {}): Zendesk {
  const credentials =
    options.password !== undefined || options.useOAuth
      ? {}
      : { username: t.owner.email, token: t.owner.token };
  const client = zendesk.createClient({ ...credentials, ...options, endpointUri: endpointUri(t) });
  return client as unknown as Zendesk;
}

/** Narrows a payload to a JSON object or fails the test with what arrived instead. */
export function record(value: unknown, what = 'value'): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${what} is not a JSON object: ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

export function records(value: unknown, what = 'value'): Record<string, unknown>[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not an array: ${JSON.stringify(value)}`);
  return value.map((item, index) => record(item, `${what}[${index}]`));
}

export function numberField(value: Record<string, unknown>, key: string): number {
  const field = value[key];
  if (typeof field !== 'number') throw new Error(`${key} is not a number: ${JSON.stringify(field)}`);
  return field;
}

export function stringField(value: Record<string, unknown>, key: string): string {
  const field = value[key];
  if (typeof field !== 'string') throw new Error(`${key} is not a string: ${JSON.stringify(field)}`);
  return field;
}
