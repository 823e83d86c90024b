import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';
import { connect, isZendeskError, numberField, record, records, type ApiResponse, type ResourceClient } from './zendesk-client.ts';

/**
 * The real node-zendesk client (v6) against custom roles, groups, group memberships and custom
 * fields over TCP: its paths (including the cursor pagination it adds to group lists), envelopes
 * and status handling. Its clients are typed here as they behave (see zendesk-client.ts).
 */

interface CustomAgentRolesClient extends ResourceClient {
  list(): Promise<unknown[]>;
  show(id: number): Promise<ApiResponse>;
  /** Wraps its argument in `{ custom_role }` itself. */
  create(role: object): Promise<ApiResponse>;
  update(id: number, role: object): Promise<ApiResponse>;
  delete(id: number): Promise<unknown>;
}
interface GroupsClient extends ResourceClient {
  list(): Promise<unknown[]>;
  count(): Promise<ApiResponse>;
  countByUser(userId: number): Promise<ApiResponse>;
  assignable(): Promise<unknown[]>;
  show(id: number): Promise<ApiResponse>;
  create(body: object): Promise<ApiResponse>;
  update(id: number, body: object): Promise<ApiResponse>;
  delete(id: number): Promise<unknown>;
}
interface GroupMembershipsClient extends ResourceClient {
  list(): Promise<unknown[]>;
  listByUser(userId: number): Promise<unknown[]>;
  listByGroup(groupId: number): Promise<unknown[]>;
  listAssignable(): Promise<unknown[]>;
  listAssignableByGroup(groupId: number): Promise<unknown[]>;
  show(id: number): Promise<ApiResponse>;
  showByUser(userId: number, id: number): Promise<ApiResponse>;
  create(body: object): Promise<ApiResponse>;
  createByUser(userId: number, body: object): Promise<ApiResponse>;
  makeDefault(userId: number, id: number): Promise<ApiResponse>;
  delete(id: number): Promise<unknown>;
  bulkCreate(memberships: object[]): Promise<ApiResponse>;
}
interface FieldsClient extends ResourceClient {
  list(): Promise<unknown[]>;
  show(id: number): Promise<ApiResponse>;
  create(body: object): Promise<ApiResponse>;
  update(id: number, body: object): Promise<ApiResponse>;
  delete(id: number): Promise<unknown>;
  reorder(ids: number[]): Promise<ApiResponse>;
}
interface UserFieldsClient extends FieldsClient {
  listOptions(fieldId: number): Promise<ApiResponse>;
  createOrUpdateOption(fieldId: number, body: object): Promise<ApiResponse>;
  deleteOption(fieldId: number, optionId: number): Promise<unknown>;
}
interface Clients {
  customagentroles: CustomAgentRolesClient;
  groups: GroupsClient;
  groupmemberships: GroupMembershipsClient;
  userfields: UserFieldsClient;
  organizationfields: FieldsClient;
  users: ResourceClient & { create(body: object): Promise<ApiResponse>; show(id: number): Promise<ApiResponse>; update(id: number, body: object): Promise<ApiResponse> };
  jobstatuses: ResourceClient & { watch(id: string, intervalMs: number, maxNotFound: number): Promise<unknown> };
}

let t: TestApp;
let client: Clients;

beforeAll(async () => {
  t = await createTestApp();
  await t.runtime.app.listen({ port: 0, host: '127.0.0.1' });
  // With throwOriginalException a refusal arrives as the client's error carrying status and body.
  client = connect(t, { throwOriginalException: true }) as unknown as Clients;
});
afterAll(async () => {
  await t?.close();
});

const ids = (items: unknown[]): number[] => records(items).map((item) => numberField(item, 'id'));

describe('node-zendesk: custom agent roles', () => {
  it('creates, lists, shows, updates and deletes a role', async () => {
    const created = await client.customagentroles.create({ name: 'Compat Role', configuration: { ticket_access: 'within-groups' } });
    expect(created.response.status).toBe(200);
    const role = record(record(created.result).custom_role ?? created.result, 'custom role');
    const id = numberField(role, 'id');
    expect(ids(await client.customagentroles.list())).toContain(id);
    const shown = record((await client.customagentroles.show(id)).result);
    expect(record(shown.custom_role ?? shown).name).toBe('Compat Role');
    const updated = await client.customagentroles.update(id, { description: 'via node-zendesk' });
    expect(updated.response.status).toBe(200);
    await client.customagentroles.delete(id);
    await expect(client.customagentroles.show(id)).rejects.toSatisfy((error: unknown) => isZendeskError(error) && error.statusCode === 404);
  });
});

describe('node-zendesk: groups and memberships', () => {
  it('walks groups with the cursor pagination the client asks for', async () => {
    const created: number[] = [];
    for (const name of ['Tier 1', 'Tier 2', 'Tier 3']) {
      const { response, result } = await client.groups.create({ group: { name } });
      expect(response.status).toBe(201);
      created.push(numberField(record(result), 'id'));
    }
    expect(ids(await client.groups.list())).toEqual(created);
    expect(ids(await client.groups.assignable())).toEqual(created);
    expect(record(record((await client.groups.count()).result).count ?? {}).value).toBe(3);
    const updated = await client.groups.update(created[0] ?? 0, { group: { description: 'First line' } });
    expect(record(updated.result).description).toBe('First line');
    await client.groups.delete(created[2] ?? 0);
    expect(record((await client.groups.show(created[2] ?? 0)).result).deleted).toBe(true);
  });

  it('adds an agent to groups, moves the default, lists and removes memberships', async () => {
    const agent = record((await client.users.create({ user: { name: 'Compat Agent', email: 'compat-agent@compat.test', role: 'agent' } })).result);
    const agentId = numberField(agent, 'id');
    const groupA = numberField(record((await client.groups.create({ group: { name: 'Alpha' } })).result), 'id');
    const groupB = numberField(record((await client.groups.create({ group: { name: 'Beta' } })).result), 'id');
    const first = record((await client.groupmemberships.create({ group_membership: { user_id: agentId, group_id: groupA } })).result);
    expect(first.default).toBe(true);
    const second = record((await client.groupmemberships.createByUser(agentId, { group_membership: { group_id: groupB } })).result);
    expect(ids(await client.groupmemberships.listByUser(agentId))).toEqual([first.id, second.id]);
    expect(ids(await client.groupmemberships.listByGroup(groupB))).toEqual([second.id]);
    expect(ids(await client.groupmemberships.list())).toEqual([first.id, second.id]);
    expect(ids(await client.groupmemberships.listAssignable())).toEqual([first.id, second.id]);
    expect(ids(await client.groupmemberships.listAssignableByGroup(groupA))).toEqual([first.id]);
    const moved = await client.groupmemberships.makeDefault(agentId, numberField(second, 'id'));
    expect(records(moved.result).map((m) => m.default)).toEqual([false, true]);
    expect(record((await client.users.show(agentId)).result).default_group_id).toBe(groupB);
    expect(record(record((await client.groups.countByUser(agentId)).result).count ?? {}).value).toBe(2);
    await client.groupmemberships.delete(numberField(second, 'id'));
    expect(record((await client.users.show(agentId)).result).default_group_id).toBe(groupA);
    const job = record(record((await client.groupmemberships.bulkCreate([{ user_id: agentId, group_id: groupB }])).result).job_status ?? {});
    const finished = record(await client.jobstatuses.watch(String(job.id), 100, 5));
    expect(finished.status).toBe('completed');
  });

  it('refuses an end user as a member with a 422 the client reports', async () => {
    const endUser = numberField(record((await client.users.create({ user: { name: 'Compat End User' } })).result), 'id');
    const group = numberField(record((await client.groups.create({ group: { name: 'Gamma' } })).result), 'id');
    await expect(client.groupmemberships.create({ group_membership: { user_id: endUser, group_id: group } })).rejects.toSatisfy(
      (error: unknown) => isZendeskError(error) && error.statusCode === 422,
    );
  });
});

describe('node-zendesk: user and organization fields', () => {
  it('creates fields, reorders them, manages options and writes values on users', async () => {
    const plan = record((await client.userfields.create({ user_field: { key: 'plan', type: 'dropdown', title: 'Plan', custom_field_options: [{ name: 'Gold', value: 'gold' }] } })).result);
    const seats = record((await client.userfields.create({ user_field: { key: 'seats', type: 'integer', title: 'Seats' } })).result);
    const planId = numberField(plan, 'id');
    const seatsId = numberField(seats, 'id');
    await client.userfields.reorder([seatsId, planId]);
    expect(ids(await client.userfields.list())).toEqual([seatsId, planId]);
    const option = await client.userfields.createOrUpdateOption(planId, { custom_field_option: { name: 'Free', value: 'free' } });
    expect(option.response.status).toBe(201);
    const listed = record((await client.userfields.listOptions(planId)).result);
    expect(records(listed.custom_field_options ?? listed).map((o) => o.value)).toEqual(['gold', 'free']);
    const user = record((await client.users.create({ user: { name: 'Fielded', user_fields: { plan: 'free', seats: '4' } } })).result);
    expect(user.user_fields).toEqual({ plan: 'free', seats: 4 });
    await expect(client.users.update(numberField(user, 'id'), { user: { user_fields: { seats: 'four' } } })).rejects.toSatisfy(
      (error: unknown) => isZendeskError(error) && error.statusCode === 422 && JSON.stringify(error.result).includes('user_fields.seats'),
    );
    await client.userfields.delete(seatsId);
    expect(ids(await client.userfields.list())).toEqual([planId]);

    const tier = record((await client.organizationfields.create({ organization_field: { key: 'tier', type: 'integer', title: 'Tier' } })).result);
    expect(ids(await client.organizationfields.list())).toEqual([numberField(tier, 'id')]);
  });
});
