import { sql, type RawBuilder } from 'kysely';
import { ticketScope, type Actor, type TicketScope } from '../policy/policy.ts';

/**
 * The one SQL filter every ticket query uses (lists, counts, show, update, delete, comments):
 * the policy's TicketScope (src/policy/policy.ts) as a boolean expression over the ticket aliased
 * `t`. Kept beside the queries rather than in the policy module because it is SQL; what it
 * allows is decided there.
 */
export function ticketVisibility(scope: TicketScope, actorId: number): RawBuilder<boolean> {
  switch (scope.kind) {
    case 'all':
      return sql<boolean>`true`;
    case 'assigned':
      return sql<boolean>`(t.assignee_id IS NOT DISTINCT FROM ${actorId}::bigint OR t.requester_id = ${actorId}::bigint)`;
    case 'groups': {
      const publicGroups = scope.publicGroups
        ? sql`OR t.group_id IN (SELECT g.id FROM groups g WHERE g.account_id = t.account_id AND g.is_public AND g.deleted_at IS NULL)`
        : sql``;
      return sql<boolean>`(t.assignee_id IS NOT DISTINCT FROM ${actorId}::bigint OR t.requester_id = ${actorId}::bigint
        OR t.group_id IN (SELECT gm.group_id FROM group_memberships gm WHERE gm.account_id = t.account_id AND gm.user_id = ${actorId}::bigint)
        ${publicGroups})`;
    }
    case 'organization':
      return sql<boolean>`(t.assignee_id IS NOT DISTINCT FROM ${actorId}::bigint OR t.requester_id = ${actorId}::bigint
        OR t.organization_id IN (SELECT om.organization_id FROM organization_memberships om WHERE om.account_id = t.account_id AND om.user_id = ${actorId}::bigint))`;
    case 'requester':
      return sql<boolean>`(t.requester_id = ${actorId}::bigint
        OR EXISTS (SELECT 1 FROM ticket_collaborators tc WHERE tc.account_id = t.account_id AND tc.ticket_id = t.id AND tc.user_id = ${actorId}::bigint AND tc.kind = 'email_cc')
        OR t.organization_id IN (
          SELECT om.organization_id FROM organization_memberships om
          JOIN organizations o ON o.account_id = om.account_id AND o.id = om.organization_id
          WHERE om.account_id = t.account_id AND om.user_id = ${actorId}::bigint AND om.view_tickets
            AND (o.shared_tickets OR ${scope.organizationWide}::boolean)))`;
  }
}

/** The filter for one actor (their scope from the policy). */
export function visibleTo(actor: Actor & { ticket_restriction?: string | null }): RawBuilder<boolean> {
  return ticketVisibility(ticketScope(actor), actor.id);
}
