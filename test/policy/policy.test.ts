import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/http/errors.ts';
import { authorize, type Actor, type Target } from '../../src/policy/policy.ts';
import {
  ADMIN_PERMISSIONS,
  DEFAULT_AGENT_PERMISSIONS,
  NO_PERMISSIONS,
  parseConfiguration,
  resolvePermissions,
} from '../../src/roles/permissions.ts';

/** Rules with no route yet (deletion, merge) and the permission resolution, checked directly. */

function actor(role: Actor['role'], configuration: Record<string, unknown> | null = null, extra: Partial<Actor> = {}): Actor {
  return { id: 10, role, is_owner: false, active: true, suspended: false, permissions: resolvePermissions(role, configuration), ...extra };
}
const endUser: Target = { id: 20, role: 'end-user', is_owner: false };
const agentTarget: Target = { id: 21, role: 'agent', is_owner: false };
const owner: Target = { id: 1, role: 'admin', is_owner: true };

function refusal(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    expect(error.status).toBe(403);
    return error.description;
  }
}

describe('resolvePermissions', () => {
  it('gives admins everything, end users nothing, plain agents the standard agent', () => {
    expect(resolvePermissions('admin', { end_user_profile_access: 'readonly' })).toEqual(ADMIN_PERMISSIONS);
    expect(resolvePermissions('end-user', { end_user_profile_access: 'full' })).toEqual(NO_PERMISSIONS);
    expect(resolvePermissions('agent', null)).toEqual(DEFAULT_AGENT_PERMISSIONS);
  });

  it('reads a stored configuration defensively: malformed keys fall back to the standard agent', () => {
    const permissions = resolvePermissions('agent', { ticket_access: 'everything', group_access: 'yes', end_user_profile_access: 'edit' });
    expect(permissions).toMatchObject({ ticket_access: 'all', group_access: false, end_user_profile_access: 'edit', end_user_deletion: false });
  });
});

describe('parseConfiguration', () => {
  it('completes a configuration and keeps previous values on update', () => {
    const created = parseConfiguration({ group_access: true, chat_access: true });
    expect(created).toMatchObject({ group_access: true, chat_access: true, end_user_profile_access: 'full', end_user_deletion: true });
    const updated = parseConfiguration({ end_user_profile_access: 'edit' }, created);
    expect(updated).toMatchObject({ group_access: true, chat_access: true, end_user_profile_access: 'edit', end_user_deletion: false });
  });

  it('refuses end_user_deletion without full profile access by clearing it', () => {
    expect(parseConfiguration({ end_user_profile_access: 'edit', end_user_deletion: true }).end_user_deletion).toBe(false);
  });
});

describe('authorize.deleteUser', () => {
  it('lets admins delete anyone but the owner and themselves', () => {
    const admin = actor('admin');
    expect(refusal(() => authorize.deleteUser(admin, endUser))).toBeUndefined();
    expect(refusal(() => authorize.deleteUser(admin, agentTarget))).toBeUndefined();
    expect(refusal(() => authorize.deleteUser(admin, owner))).toContain('owner');
    expect(refusal(() => authorize.deleteUser(admin, { id: admin.id, role: 'admin', is_owner: false }))).toContain('themselves');
  });

  it('lets agents delete end users only with full access, end_user_deletion and all tickets', () => {
    expect(refusal(() => authorize.deleteUser(actor('agent'), endUser))).toBeUndefined();
    expect(refusal(() => authorize.deleteUser(actor('agent'), agentTarget))).toContain('end users only');
    expect(refusal(() => authorize.deleteUser(actor('agent', { end_user_profile_access: 'full', end_user_deletion: false }), endUser))).toContain('end_user_deletion');
    expect(refusal(() => authorize.deleteUser(actor('agent', { end_user_profile_access: 'edit' }), endUser))).toContain('end_user_profile_access');
    expect(refusal(() => authorize.deleteUser(actor('agent', { ticket_access: 'within-groups', create_end_users_when_restricted: true }), endUser))).toContain('ticket_access');
    expect(refusal(() => authorize.deleteUser(actor('end-user'), endUser))).toBeDefined();
  });
});

describe('authorize.mergeUsers', () => {
  it('takes full profile access for agents, and end users on both sides', () => {
    const other: Target = { id: 22, role: 'end-user', is_owner: false };
    expect(refusal(() => authorize.mergeUsers(actor('agent'), endUser, other))).toBeUndefined();
    expect(refusal(() => authorize.mergeUsers(actor('agent', { end_user_profile_access: 'edit' }), endUser, other))).toContain('end_user_profile_access');
    expect(refusal(() => authorize.mergeUsers(actor('agent'), endUser, agentTarget))).toBeDefined();
    expect(refusal(() => authorize.mergeUsers(actor('admin'), endUser, other))).toBeUndefined();
  });
});
