import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/http/errors.ts';
import { authorizeTicketPrivacy, type Actor } from '../../src/policy/policy.ts';
import { resolvePermissions } from '../../src/roles/permissions.ts';

/** The `// Suspended and deleted tickets` block, rule by rule (the routes are in test/api). */

function actor(role: Actor['role'], configuration: Record<string, unknown> | null = null): Actor {
  return { id: 10, role, is_owner: false, active: true, suspended: false, permissions: resolvePermissions(role, configuration) };
}

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

describe('authorizeTicketPrivacy', () => {
  it('redact: admins and agents whose role grants it; never plain agents or end users', () => {
    expect(refusal(() => authorizeTicketPrivacy.redact(actor('admin')))).toBeUndefined();
    expect(refusal(() => authorizeTicketPrivacy.redact(actor('agent', { redact: true })))).toBeUndefined();
    expect(refusal(() => authorizeTicketPrivacy.redact(actor('agent')))).toContain('redact');
    expect(refusal(() => authorizeTicketPrivacy.redact(actor('end-user')))).toBe('Only agents and admins can do this');
  });

  it('the Deleted tickets view: view_deleted_tickets to list, ticket_deletion to act, bulk_actions for many', () => {
    expect(refusal(() => authorizeTicketPrivacy.viewDeletedTickets(actor('agent')))).toBeUndefined();
    expect(refusal(() => authorizeTicketPrivacy.viewDeletedTickets(actor('agent', { view_deleted_tickets: false })))).toContain('view_deleted_tickets');
    expect(refusal(() => authorizeTicketPrivacy.manageDeletedTickets(actor('agent'), true))).toBeUndefined();
    expect(refusal(() => authorizeTicketPrivacy.manageDeletedTickets(actor('agent', { ticket_deletion: false }), false))).toContain('ticket_deletion');
    expect(refusal(() => authorizeTicketPrivacy.manageDeletedTickets(actor('agent', { bulk_actions: false }), false))).toBeUndefined();
    expect(refusal(() => authorizeTicketPrivacy.manageDeletedTickets(actor('agent', { bulk_actions: false }), true))).toContain('bulk_actions');
    expect(refusal(() => authorizeTicketPrivacy.manageDeletedTickets(actor('end-user'), false))).toBeDefined();
  });

  it('the suspended tickets queue: admins and agents with access to all tickets', () => {
    expect(refusal(() => authorizeTicketPrivacy.manageSuspendedTickets(actor('admin')))).toBeUndefined();
    expect(refusal(() => authorizeTicketPrivacy.manageSuspendedTickets(actor('agent')))).toBeUndefined();
    for (const access of ['within-groups', 'within-groups-and-public-groups', 'within-organization', 'assigned-only']) {
      expect(refusal(() => authorizeTicketPrivacy.manageSuspendedTickets(actor('agent', { ticket_access: access })))).toContain('suspended tickets');
    }
    expect(refusal(() => authorizeTicketPrivacy.manageSuspendedTickets(actor('end-user')))).toBeDefined();
  });
});
