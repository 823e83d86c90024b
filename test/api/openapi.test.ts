import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';

interface Operation {
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
  tags?: string[];
}
interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, unknown> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

let t: TestApp;
let doc: OpenApiDocument;
beforeAll(async () => {
  t = await createTestApp();
  const response = await t.request('GET', '/api/v2/openapi.json', { as: null });
  expect(response.statusCode).toBe(200);
  doc = response.json();
});
afterAll(async () => {
  await t.close();
});

/** Every (method, path) the router knows, read from Fastify's route tree. */
function registeredRoutes(tree: string): Array<{ method: string; url: string }> {
  const paths: string[] = [];
  const routes: Array<{ method: string; url: string }> = [];
  for (const line of tree.split('\n')) {
    const match = /^(.*?)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = [...(match[1] ?? '')].length / 4;
    paths.length = depth;
    const url = (paths[depth - 1] ?? '') + (match[2] ?? '');
    paths[depth] = url;
    for (const method of (match[3] ?? '').split(', ').filter(Boolean)) routes.push({ method, url });
  }
  return routes;
}

/** `/api/v2/users/:user_id` → `/api/v2/users/{user_id}`, as OpenAPI writes it. */
function documentPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

describe('GET /api/v2/openapi.json', () => {
  it('is an OpenAPI 3 document, served without credentials', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toEqual(expect.any(String));
    expect(doc.info.version).toEqual(expect.any(String));
    expect(Object.keys(doc.components?.securitySchemes ?? {})).toEqual(expect.arrayContaining(['basicAuth', 'bearerAuth']));
  });

  it('is served with or without the .json suffix, and to an authenticated caller too', async () => {
    const bare = await t.request('GET', '/api/v2/openapi', { as: null });
    expect(bare.statusCode).toBe(200);
    expect(bare.json().paths).toEqual(doc.paths);
    const signedIn = await t.request('GET', '/api/v2/openapi.json');
    expect(signedIn.statusCode).toBe(200);
    expect(signedIn.headers['content-type']).toMatch(/^application\/json/);
  });

  it('lists the users, identities, job statuses, API tokens, OAuth, account settings, organizations and organization memberships paths', () => {
    const expected: Array<[string, string[]]> = [
      ['/api/v2/users', ['get', 'post']],
      ['/api/v2/users/{user_id}', ['get', 'put']],
      ['/api/v2/users/me', ['get']],
      ['/api/v2/users/count', ['get']],
      ['/api/v2/users/show_many', ['get']],
      ['/api/v2/users/create_many', ['post']],
      ['/api/v2/users/create_or_update', ['post']],
      ['/api/v2/users/create_or_update_many', ['post']],
      ['/api/v2/users/update_many', ['put']],
      ['/api/v2/users/{user_id}/password', ['post', 'put']],
      ['/api/v2/users/{user_id}/password/requirements', ['get']],
      ['/api/v2/users/{user_id}/identities', ['get', 'post']],
      ['/api/v2/users/{user_id}/identities/{user_identity_id}', ['get', 'put', 'delete']],
      ['/api/v2/users/{user_id}/identities/{user_identity_id}/make_primary', ['put']],
      ['/api/v2/users/{user_id}/identities/{user_identity_id}/verify', ['put']],
      ['/api/v2/job_statuses', ['get']],
      ['/api/v2/job_statuses/{job_status_id}', ['get']],
      ['/api/v2/job_statuses/show_many', ['get']],
      ['/api/v2/api_tokens', ['get', 'post']],
      ['/api/v2/api_tokens/{api_token_id}', ['delete']],
      ['/api/v2/oauth/clients', ['get', 'post']],
      ['/api/v2/oauth/tokens', ['post']],
      ['/api/v2/account/settings', ['get', 'put']],
      ['/api/v2/organizations', ['get', 'post']],
      ['/api/v2/organizations/{organization_id}', ['get', 'put', 'delete']],
      ['/api/v2/organizations/show_many', ['get']],
      ['/api/v2/organizations/count', ['get']],
      ['/api/v2/organizations/search', ['get']],
      ['/api/v2/organizations/autocomplete', ['get']],
      ['/api/v2/organizations/create_many', ['post']],
      ['/api/v2/organizations/create_or_update', ['post']],
      ['/api/v2/organizations/update_many', ['put']],
      ['/api/v2/organizations/destroy_many', ['delete']],
      ['/api/v2/organizations/{organization_id}/related', ['get']],
      ['/api/v2/organizations/{organization_id}/users', ['get']],
      ['/api/v2/users/{user_id}/organizations', ['get']],
      ['/api/v2/organization_memberships', ['get', 'post']],
      ['/api/v2/organization_memberships/{organization_membership_id}', ['get', 'delete']],
      ['/api/v2/organization_memberships/create_many', ['post']],
      ['/api/v2/organization_memberships/destroy_many', ['delete']],
      ['/api/v2/users/{user_id}/organization_memberships', ['get', 'post']],
      ['/api/v2/organizations/{organization_id}/organization_memberships', ['get']],
      ['/api/v2/users/{user_id}/organization_memberships/{organization_membership_id}/make_default', ['put']],
      ['/api/v2/users/{user_id}/organizations/{organization_id}/make_default', ['put']],
      ['/api/v2/users/{user_id}/organizations/{organization_id}', ['delete']],
    ];
    for (const [path, methods] of expected) {
      expect(doc.paths[path], path).toBeDefined();
      for (const method of methods) expect(doc.paths[path]?.[method], `${method.toUpperCase()} ${path}`).toBeDefined();
    }
  });

  it('documents every route registered under /api/v2, each with a response schema for its success status', () => {
    const routes = registeredRoutes(t.runtime.app.printRoutes({ commonPrefix: false }))
      .filter((route) => route.url.startsWith('/api/v2') && route.method !== 'HEAD');
    expect(routes.length).toBeGreaterThan(30);
    const problems: string[] = [];
    for (const { method, url } of routes) {
      const label = `${method} ${url}`;
      const operation = doc.paths[documentPath(url)]?.[method.toLowerCase()];
      if (!operation) {
        problems.push(`${label}: not in the document`);
        continue;
      }
      const successes = Object.entries(operation.responses ?? {}).filter(([status]) => /^2\d\d$/.test(status));
      if (successes.length === 0) problems.push(`${label}: no success response`);
      for (const [status, response] of successes) {
        const schema = response.content?.['application/json']?.schema;
        // A route that declares no response schema shows up as `200: Default Response` with no content;
        // an empty body must say so (204, or a described empty 200).
        if (schema === undefined && status !== '204' && (response.description ?? 'Default Response') === 'Default Response') {
          problems.push(`${label}: ${status} has no response schema`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('documents no operation the server does not route', () => {
    const routed = new Set(
      registeredRoutes(t.runtime.app.printRoutes({ commonPrefix: false })).map((route) => `${route.method} ${documentPath(route.url)}`),
    );
    const phantom: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const method of Object.keys(operations).filter((key) => METHODS.includes(key))) {
        if (!routed.has(`${method.toUpperCase()} ${path}`)) phantom.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(phantom).toEqual([]);
  });

  it('documents the error body of the authenticated routes', () => {
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/v2')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        if (!METHODS.includes(method)) continue;
        for (const status of ['401', '403', '404']) {
          const schema = operation.responses?.[status]?.content?.['application/json']?.schema as { properties?: Record<string, unknown> } | undefined;
          if (!schema?.properties?.error) missing.push(`${method.toUpperCase()} ${path} ${status}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('GET /api/docs', () => {
  it('serves the interactive documentation', async () => {
    const response = await t.request('GET', '/api/docs', { as: null });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toMatch(/swagger-ui/i);
    const initializer = await t.request('GET', '/api/docs/static/swagger-initializer.js', { as: null });
    expect(initializer.statusCode).toBe(200);
  });

  it('serves the same document the page renders', async () => {
    const response = await t.request('GET', '/api/docs/json', { as: null });
    expect(response.statusCode).toBe(200);
    expect(response.json().paths).toEqual(doc.paths);
  });

  it('redirects / to the documentation', async () => {
    const response = await t.request('GET', '/', { as: null });
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe('/api/docs');
  });
});
