import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';
import {
  connect,
  endpointUri,
  isZendeskError,
  numberField,
  record,
  records,
  stringField,
  type ApiResponse,
  type ResourceClient,
  type Zendesk,
} from './zendesk-client.ts';

/**
 * Organizations and organization memberships through the real node-zendesk client (v6) over
 * TCP. The two resource clients below are typed as the library behaves at run time
 * (dist/index.js): `create`/`update` post their argument as the body, the membership client wraps
 * a bare membership in `{ organization_membership }` itself, `search` and `autocomplete` page
 * through getAll and resolve to the flattened organizations.
 */
interface OrganizationsClient extends ResourceClient {
  list(): Promise<unknown[]>;
  listByUser(userId: number): Promise<unknown[]>;
  show(id: number): Promise<ApiResponse>;
  showMany(ids: number[]): Promise<unknown[]>;
  create(body: object): Promise<ApiResponse>;
  createMany(body: object): Promise<ApiResponse>;
  createOrUpdate(body: object): Promise<ApiResponse>;
  update(id: number, body: object): Promise<ApiResponse>;
  related(id: number): Promise<ApiResponse>;
  delete(id: number): Promise<ApiResponse>;
  /** GET organizations/search?external_id= */
  search(externalId: string): Promise<unknown[]>;
  autocomplete(query: Record<string, string>): Promise<unknown[]>;
}

interface OrganizationMembershipsClient extends ResourceClient {
  list(): Promise<unknown[]>;
  listByUser(userId: number): Promise<unknown[]>;
  listByOrganization(organizationId: number): Promise<unknown[]>;
  show(id: number): Promise<ApiResponse>;
  create(membership: object): Promise<ApiResponse>;
  createByUser(userId: number, membership: object): Promise<ApiResponse>;
  createMany(memberships: object[]): Promise<ApiResponse>;
  delete(id: number): Promise<ApiResponse>;
  deleteMany(ids: number[]): Promise<ApiResponse>;
  makeDefault(userId: number, membershipId: number): Promise<ApiResponse>;
}

type Client = Omit<Zendesk, 'users'> & {
  users: Zendesk['users'] & { listByOrganization(organizationId: number): Promise<unknown[]> };
  organizations: OrganizationsClient;
  organizationmemberships: OrganizationMembershipsClient;
};

let t: TestApp;
let client: Client;

beforeAll(async () => {
  t = await createTestApp();
  await t.runtime.app.listen({ port: 0, host: '127.0.0.1' });
  client = connect(t) as unknown as Client;
});

afterAll(async () => {
  await t?.close();
});

const suffix = (): string => crypto.randomBytes(4).toString('hex');

async function createOrganization(fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const { response, result } = await client.organizations.create({ organization: { name: `Compat ${suffix()}`, ...fields } });
  expect(response.status).toBe(201);
  return record(result, 'created organization');
}

async function createUser(fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const { response, result } = await client.users.create({ user: { name: 'Compat Member', email: `member-${suffix()}@compat.test`, ...fields } });
  expect(response.status).toBe(201);
  return record(result, 'created user');
}

async function watchJob(id: string): Promise<Record<string, unknown>> {
  return record(await client.jobstatuses.watch(id, 100, 5), 'watched job status');
}

describe('node-zendesk organizations against a listening Roster server', () => {
  it('creates an organization with organizations.create and reads it back with organizations.show', async () => {
    const externalId = `ext-${suffix()}`;
    const { response, result } = await client.organizations.create({
      organization: { name: 'Initech', domain_names: ['initech.test'], tags: ['compat'], external_id: externalId, notes: 'TPS' },
    });
    expect(response.status).toBe(201);
    const created = record(result, 'created organization');
    const id = numberField(created, 'id');
    expect(created).toMatchObject({ name: 'Initech', domain_names: ['initech.test'], tags: ['compat'], external_id: externalId, notes: 'TPS' });
    expect(response.headers.get('location')).toBe(`${endpointUri(t)}/organizations/${id}.json`);
    const shown = await client.organizations.show(id);
    expect(record(shown.result, 'shown organization')).toEqual(created);
  });

  it('lists organizations with organizations.list, following cursor links across pages', async () => {
    for (let index = 0; index < 3; index += 1) await createOrganization();
    const all = records(await client.organizations.list(), 'organizations');
    expect(all.length).toBeGreaterThanOrEqual(3);
    const pages = records(await client.organizations.getAll(['organizations', { 'page[size]': 2 }]), 'organizations by twos');
    expect(pages.map((organization) => organization.id)).toEqual(all.map((organization) => organization.id));
  });

  it('updates an organization with organizations.update', async () => {
    const created = await createOrganization();
    const { response, result } = await client.organizations.update(numberField(created, 'id'), { organization: { notes: 'Something interesting', shared_tickets: true } });
    expect(response.status).toBe(200);
    expect(record(result, 'updated organization')).toMatchObject({ id: created.id, notes: 'Something interesting', shared_tickets: true });
  });

  it('finds an organization by external_id with organizations.search and by name prefix with organizations.autocomplete', async () => {
    const externalId = `Find-${suffix()}`;
    const name = `Zorglub ${suffix()}`;
    const created = await createOrganization({ name, external_id: externalId });
    const found = records(await client.organizations.search(externalId.toLowerCase()), 'search results');
    expect(found.map((organization) => organization.id)).toEqual([created.id]);
    const completed = records(await client.organizations.autocomplete({ name: 'zorg' }), 'autocomplete results');
    expect(completed.map((organization) => organization.name)).toContain(name);
    const byName = await client.organizations.get(['organizations', 'search', { name: name.toUpperCase() }]);
    expect(records(byName.result, 'search by name').map((organization) => organization.id)).toEqual([created.id]);
  });

  it('creates many organizations with organizations.createMany, followed with jobstatuses.watch', async () => {
    const { result } = await client.organizations.createMany({ organizations: [{ name: `Many ${suffix()}` }, { name: `Many ${suffix()}` }] });
    const started = record(record(result, 'create_many result').job_status, 'job_status');
    const job = await watchJob(stringField(started, 'id'));
    expect(job.status).toBe('completed');
    expect(records(job.results, 'results').map((item) => item.status)).toEqual(['Created', 'Created']);
  });

  it('reads related counts and the count through the generic get', async () => {
    const created = await createOrganization();
    const related = await client.organizations.related(numberField(created, 'id'));
    expect(record(related.result, 'related').organization_related).toEqual({ tickets_count: 0, users_count: 0 });
    const count = await client.organizations.get(['organizations', 'count']);
    expect(numberField(record(record(count.result, 'count body').count, 'count'), 'value')).toBeGreaterThan(0);
  });

  it('deletes an organization with organizations.delete; showing it afterwards is a 404', async () => {
    const created = await createOrganization();
    const id = numberField(created, 'id');
    const { response } = await client.organizations.delete(id);
    expect(response.status).toBe(204);
    const strict = connect(t, { throwOriginalException: true }) as unknown as Client;
    try {
      await strict.organizations.show(id);
      throw new Error('the organization is still there');
    } catch (error) {
      if (!isZendeskError(error)) throw error;
      expect(error.statusCode).toBe(404);
      expect(error.result).toEqual({ error: 'RecordNotFound', description: 'Not found' });
    }
  });

  it("surfaces a taken name as a 422 carrying Zendesk's DuplicateValue details", async () => {
    const created = await createOrganization();
    const strict = connect(t, { throwOriginalException: true }) as unknown as Client;
    try {
      await strict.organizations.create({ organization: { name: stringField(created, 'name') } });
      throw new Error('a duplicate name was accepted');
    } catch (error) {
      if (!isZendeskError(error)) throw error;
      expect(error.statusCode).toBe(422);
      const details = record(record(error.result, '422 body').details, 'details');
      expect(records(details.name, 'details.name')[0]).toMatchObject({ error: 'DuplicateValue' });
    }
  });
});

describe('node-zendesk organization memberships against a listening Roster server', () => {
  it('creates memberships with organizationmemberships.create, lists them, makes one default and deletes it', async () => {
    const first = await createOrganization();
    const second = await createOrganization();
    const user = await createUser();
    const userId = numberField(user, 'id');

    const created = await client.organizationmemberships.create({ user_id: userId, organization_id: first.id });
    expect(created.response.status).toBe(201);
    const membership = record(created.result, 'membership');
    expect(membership).toMatchObject({ user_id: userId, organization_id: first.id, default: true, organization_name: first.name });
    const other = record((await client.organizationmemberships.createByUser(userId, { organization_id: second.id })).result, 'second membership');
    expect(other.default).toBeNull();

    const byUser = records(await client.organizationmemberships.listByUser(userId), 'memberships of the user');
    expect(byUser.map((item) => item.organization_id)).toEqual([first.id, second.id]);
    const byOrganization = records(await client.organizationmemberships.listByOrganization(numberField(second, 'id')), 'memberships of the organization');
    expect(byOrganization.map((item) => item.user_id)).toEqual([userId]);
    const all = records(await client.organizationmemberships.list(), 'all memberships');
    expect(all.map((item) => item.id)).toEqual(expect.arrayContaining([membership.id, other.id]));

    const madeDefault = records((await client.organizationmemberships.makeDefault(userId, numberField(other, 'id'))).result, 'make_default result');
    expect(madeDefault.map((item) => [item.organization_id, item.default])).toEqual([[second.id, true], [first.id, null]]);
    expect(record((await client.users.show(userId)).result, 'user').organization_id).toBe(second.id);

    const deleted = await client.organizationmemberships.delete(numberField(other, 'id'));
    expect(deleted.response.status).toBe(204);
    expect(record((await client.users.show(userId)).result, 'user').organization_id).toBe(first.id);
  });

  it('creates and deletes many memberships as jobs', async () => {
    const organization = await createOrganization();
    const users = [await createUser(), await createUser()];
    const { result } = await client.organizationmemberships.createMany(users.map((user) => ({ user_id: user.id, organization_id: organization.id })));
    const job = await watchJob(stringField(record(record(result, 'create_many').job_status, 'job_status'), 'id'));
    const ids = records(job.results, 'results').map((item) => numberField(item, 'id'));
    expect(ids).toHaveLength(2);
    const removal = await client.organizationmemberships.deleteMany(ids);
    const removed = await watchJob(stringField(record(record(removal.result, 'destroy_many').job_status, 'job_status'), 'id'));
    expect(records(removed.results, 'results').every((item) => item.success === true)).toBe(true);
  });

  it("sets a user's organization on users.create and lists members with users.listByOrganization and organizations.listByUser", async () => {
    const organization = await createOrganization({ domain_names: [`d${suffix()}.test`] });
    const organizationId = numberField(organization, 'id');
    const byId = await createUser({ organization_id: organizationId });
    expect(byId.organization_id).toBe(organizationId);
    const domain = (organization.domain_names as string[])[0];
    const byDomain = await createUser({ email: `someone@${domain}` });
    expect(byDomain.organization_id).toBe(organizationId);
    const members = records(await client.users.listByOrganization(organizationId), 'members');
    expect(members.map((member) => member.id)).toEqual([byId.id, byDomain.id]);
    const organizations = records(await client.organizations.listByUser(numberField(byId, 'id')), 'organizations of the user');
    expect(organizations.map((item) => item.id)).toEqual([organizationId]);

    const moved = await createOrganization();
    const updated = await client.users.update(numberField(byId, 'id'), { user: { organization_id: moved.id } });
    expect(record(updated.result, 'updated user').organization_id).toBe(moved.id);
  });
});
