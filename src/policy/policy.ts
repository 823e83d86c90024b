import type { CustomFieldOwner, Role, UserRow } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import { isRestricted, type PermissionKey, type Permissions } from '../roles/permissions.ts';
import type { Executor } from '../users/users.repository.ts';

/**
 * Who may do what (DOMAIN.md §1), in one place. Routes call `authorize.*` before any domain
 * work; every rule here throws 403 Forbidden (or 404 where existence itself must stay hidden),
 * and the description names what the caller lacks: a role, or a permission key of their
 * (custom) role as resolved in src/roles/permissions.ts.
 */
export type Actor = Pick<UserRow, 'id' | 'role' | 'is_owner' | 'active' | 'suspended'> & { permissions: Permissions };
/**
 * The user acted upon. `shares_organization` is known only when it matters (an agent whose
 * access is `edit-within-org`): see `withOrganizationContext`.
 */
export type Target = Pick<UserRow, 'id' | 'role' | 'is_owner'> & { shares_organization?: boolean };

export const isStaff = (actor: Pick<Actor, 'role'>): boolean => actor.role === 'agent' || actor.role === 'admin';
export const isAdmin = (actor: Pick<Actor, 'role'>): boolean => actor.role === 'admin';

function allow(condition: boolean, description?: string): void {
  if (!condition) throw errors.forbidden(description);
}

const ONLY_STAFF = 'Only agents and admins can do this';
const ONLY_ADMINS = 'Only admins can do this';
const ONLY_OWNER = 'Only the account owner can do this';
const ONLY_SELF = 'End users can see and change only their own profile';
const lacking = (permission: PermissionKey): string => `You do not have the ${permission} permission to do this`;

/** Refuses unless the actor's resolved permissions grant `permission` (admins hold every one). */
function need(actor: Actor, permission: PermissionKey, granted: boolean): void {
  allow(isStaff(actor), ONLY_STAFF);
  allow(granted, lacking(permission));
}

/** Fields only staff may set on a user; end users editing themselves get the rest. */
const END_USER_SELF_FIELDS = new Set(['name', 'locale', 'locale_id', 'time_zone', 'iana_time_zone', 'photo', 'phone', 'email', 'alias', 'remote_photo_url']);

/** An agent touching an end user's profile: the profile-access level and the restricted-agent rule. */
function editEndUser(actor: Actor, target: Target): void {
  const access = actor.permissions.end_user_profile_access;
  need(actor, 'end_user_profile_access', access !== 'readonly');
  if (access === 'edit-within-org') allow(target.shares_organization === true, lacking('end_user_profile_access'));
  restrictedRule(actor);
}

/** Restricted agents (ticket access other than all) neither create nor edit end users (seed 001), unless granted. */
function restrictedRule(actor: Actor): void {
  if (isAdmin(actor) || !isRestricted(actor.permissions)) return;
  allow(actor.permissions.create_end_users_when_restricted, lacking('create_end_users_when_restricted'));
}

/** Agents manage end users; admins manage everyone but the owner (whom only the owner manages). */
function manage(actor: Actor, target: Target): void {
  if (actor.id === target.id) return;
  allow(isStaff(actor), ONLY_SELF);
  if (isAdmin(actor)) return allow(!target.is_owner || actor.is_owner, 'Only the account owner can change the account owner');
  allow(target.role === 'end-user', 'Agents manage end users only; agents and admins are managed by admins');
  editEndUser(actor, target);
}

export const authorize = {
  staff(actor: Actor): void {
    allow(isStaff(actor), ONLY_STAFF);
  },
  admin(actor: Actor): void {
    allow(isAdmin(actor), ONLY_ADMINS);
  },
  owner(actor: Actor): void {
    allow(actor.is_owner, ONLY_OWNER);
  },
  /** Staff see every user; an end user sees only themselves. */
  viewUser(actor: Actor, target: Pick<Target, 'id'>): void {
    allow(isStaff(actor) || actor.id === target.id, ONLY_SELF);
  },
  /** Lists, counts and look-ups of many users: staff whose role has end_user_list_access full. */
  listUsers(actor: Actor): void {
    need(actor, 'end_user_list_access', actor.permissions.end_user_list_access === 'full');
  },
  /** Jobs over many records (create_many, update_many, …). */
  bulk(actor: Actor): void {
    need(actor, 'bulk_actions', actor.permissions.bulk_actions);
  },
  /**
   * Agents whose role has full end-user profile access create end users (a restricted agent
   * only with create_end_users_when_restricted); admins create anyone (the owner is made only
   * at bootstrap).
   */
  createUser(actor: Actor, role: Role): void {
    allow(isStaff(actor), ONLY_STAFF);
    if (isAdmin(actor)) return;
    allow(role === 'end-user', 'Only admins can create agents and admins');
    need(actor, 'end_user_profile_access', actor.permissions.end_user_profile_access === 'full');
    restrictedRule(actor);
  },
  /**
   * Agents manage end users (and their own profile); admins manage everyone; only the owner
   * touches another admin's email or password; nobody changes their own role (or the owner's),
   * nor suspends themselves (an owner doing so would lock the whole account out).
   */
  updateUser(actor: Actor, target: Target, fields: string[]): void {
    const self = actor.id === target.id;
    if (self) {
      allow(!fields.includes('role') && !fields.includes('custom_role_id'), 'Nobody can change their own role');
      allow(!fields.includes('suspended'), 'Nobody can suspend themselves');
      if (!isStaff(actor)) allow(fields.every((field) => END_USER_SELF_FIELDS.has(field)), 'End users can change only their name, locale, time zone, photo, phone and email');
      return;
    }
    manage(actor, target);
    if (target.role === 'admin' && !actor.is_owner) {
      allow(!fields.includes('email') && !fields.includes('password') && !fields.includes('identities'), 'Only the account owner can change an admin\'s email or password');
    }
    if (target.is_owner) allow(!fields.includes('role'), 'The account owner\'s role cannot change; transfer the ownership first');
    if (fields.includes('role') || fields.includes('custom_role_id')) allow(isAdmin(actor), 'Only admins can change roles');
  },
  /** Changing a role: admins only, never their own, and never the owner's. */
  assignRole(actor: Actor, target: Target | null, role: Role): void {
    if (role !== 'end-user' || (target && target.role !== 'end-user')) allow(isAdmin(actor), 'Only admins can change roles');
    if (target) {
      allow(target.id !== actor.id, 'Nobody can change their own role');
      allow(!target.is_owner, 'The account owner\'s role cannot change; transfer the ownership first');
    }
  },
  /** Giving an agent a custom role (or taking it away): admins. */
  assignCustomRole(actor: Actor): void {
    allow(isAdmin(actor), 'Only admins can assign custom roles');
  },
  canManage(actor: Actor, target: Target): boolean {
    try {
      manage(actor, target);
      return true;
    } catch {
      return false;
    }
  },
  manageUser(actor: Actor, target: Target): void {
    manage(actor, target);
  },
  /**
   * Deleting a user (soft delete, DOMAIN.md §5): admins delete anyone but the owner and
   * themselves; agents delete end users with full profile access, end_user_deletion (Roster's
   * key, which a role can take away from `full`) *and* access to all tickets — an agent who cannot see every ticket
   * could not know what the deletion leaves behind. The data rules (last admin, open tickets,
   * shared users) are the domain's: src/lifecycle/soft-delete-user.ts.
   */
  deleteUser(actor: Actor, target: Target): void {
    allow(isStaff(actor), ONLY_STAFF);
    allow(actor.id !== target.id, 'Nobody can delete themselves');
    allow(!target.is_owner, 'The account owner cannot be deleted; transfer the ownership first');
    if (isAdmin(actor)) return;
    allow(target.role === 'end-user', 'Agents delete end users only; agents and admins are deleted by admins');
    need(actor, 'end_user_profile_access', actor.permissions.end_user_profile_access === 'full');
    need(actor, 'end_user_deletion', actor.permissions.end_user_deletion);
    need(actor, 'ticket_access', actor.permissions.ticket_access === 'all');
  },
  /** destroy_many and destroy_by_query: bulk_actions, then each user is checked as by deleteUser. */
  deleteManyUsers(actor: Actor): void {
    need(actor, 'bulk_actions', actor.permissions.bulk_actions);
    if (!isAdmin(actor)) need(actor, 'end_user_deletion', actor.permissions.end_user_deletion);
  },
  /**
   * Merging end users (and previewing or undoing a merge): admins, and agents with full profile
   * access (Zendesk's "edit end users"; `full` adds create, delete and merge).
   */
  mergeUsers(actor: Actor, loser: Target, survivor: Target): void {
    allow(isStaff(actor), ONLY_STAFF);
    manage(actor, loser);
    manage(actor, survivor);
    if (!isAdmin(actor)) need(actor, 'end_user_profile_access', actor.permissions.end_user_profile_access === 'full');
  },
  /** Suspending or unsuspending: as editing the user (agents: end users; admins: agents too), never oneself. */
  suspendUser(actor: Actor, target: Target): void {
    allow(actor.id !== target.id, 'Nobody can suspend themselves');
    allow(!target.is_owner, 'The account owner cannot be suspended');
    manage(actor, target);
  },
  /** The Deleted users view (list, show, count): staff whose role grants view_deleted_users (admins). */
  viewDeletedUsers(actor: Actor): void {
    need(actor, 'view_deleted_users', actor.permissions.view_deleted_users);
  },
  /** Permanent deletion and restore of a soft-deleted user: admins (Zendesk: admins only). */
  manageDeletedUsers(actor: Actor): void {
    allow(isAdmin(actor), 'Only admins can permanently delete or restore deleted users');
  },
  /** Identities are contact details: email/login changes on an admin are the owner's alone. */
  manageIdentities(actor: Actor, target: Target): void {
    manage(actor, target);
    if (target.role === 'admin' && actor.id !== target.id) allow(actor.is_owner, 'Only the account owner can change an admin\'s email or password');
  },
  /** Setting someone else's password: admins; an admin's password only by the owner. */
  setPassword(actor: Actor, target: Target): void {
    allow(isAdmin(actor), ONLY_ADMINS);
    allow(actor.id !== target.id, 'Change your own password with your previous password');
    allow(!target.is_owner, 'Only the account owner can change their password');
    if (target.role === 'admin') allow(actor.is_owner, 'Only the account owner can change an admin\'s email or password');
  },
  changeOwnPassword(actor: Actor, target: Target): void {
    allow(actor.id === target.id, 'Only the user themselves can change their password this way');
  },
  /** The account owner hands ownership to another admin. */
  transferOwnership(actor: Actor): void {
    allow(actor.is_owner, 'Only the account owner can transfer the ownership');
  },

  // Custom roles
  /** Role names and configurations: staff (agents see what roles exist). */
  viewCustomRoles(actor: Actor): void {
    allow(isStaff(actor), ONLY_STAFF);
  },
  manageCustomRoles(actor: Actor): void {
    allow(isAdmin(actor), 'Only admins can manage custom roles');
  },

  // Groups
  viewGroups(actor: Actor): void {
    allow(isStaff(actor), ONLY_STAFF);
  },
  /** Creating, changing and deleting groups and group memberships: admins and agents with group_access. */
  manageGroups(actor: Actor): void {
    need(actor, 'group_access', actor.permissions.group_access);
  },
  /** Choosing a default group: an agent for themselves, or whoever manages groups. */
  setDefaultGroup(actor: Actor, userId: number): void {
    if (actor.id === userId && isStaff(actor)) return;
    need(actor, 'group_access', actor.permissions.group_access);
  },

  // Custom fields
  viewCustomFields(actor: Actor): void {
    allow(isStaff(actor), ONLY_STAFF);
  },
  manageCustomFields(actor: Actor, owner: CustomFieldOwner): void {
    if (owner === 'user') need(actor, 'manage_user_fields', actor.permissions.manage_user_fields);
    else need(actor, 'manage_organization_fields', actor.permissions.manage_organization_fields);
  },

  // Organizations
  /**
   * Adding, changing and deleting organizations (and who belongs to them): admins, and agents
   * whose role grants organization_editing (src/roles/permissions.ts).
   */
  canEditOrganizations(actor: Actor): boolean {
    return isStaff(actor) && actor.permissions.organization_editing;
  },
  /** Lists, counts, searches and look-ups across organizations: staff only. */
  listOrganizations(actor: Actor): void {
    allow(isStaff(actor), ONLY_STAFF);
  },
  /** One organization: staff, or an end user who belongs to it. */
  viewOrganization(actor: Actor, isMember: boolean): void {
    allow(isStaff(actor) || isMember, 'End users see only the organizations they belong to');
  },
  manageOrganizations(actor: Actor): void {
    need(actor, 'organization_editing', actor.permissions.organization_editing);
  },
  /** Zendesk: agents without organization editing may still change an organization's notes. */
  updateOrganization(actor: Actor, fields: string[]): void {
    if (authorize.canEditOrganizations(actor)) return;
    allow(isStaff(actor), ONLY_STAFF);
    allow(actor.role === 'agent' && fields.length > 0 && fields.every((field) => field === 'notes'), lacking('organization_editing'));
  },
  /** Memberships of a user: staff see anyone's, an end user only their own. */
  viewMemberships(actor: Actor, userId: number): void {
    allow(isStaff(actor) || actor.id === userId, 'End users see only their own organizations and memberships');
  },
  /**
   * Putting a user into or out of an organization, or changing their default one: whoever edits
   * organizations, and for agents only on end users (Zendesk's "agents, for an end user").
   */
  manageMemberships(actor: Actor, target: Target): void {
    need(actor, 'organization_editing', actor.permissions.organization_editing);
    allow(isAdmin(actor) || target.role === 'end-user', 'Agents manage end users only; agents and admins are managed by admins');
  },
};

/**
 * Adds what `edit-within-org` needs to a target: whether the acting agent and the target end
 * user belong to a common organization. One query, run only for actors with that access.
 */
export async function withOrganizationContext<T extends Target>(db: Executor, accountId: number, actor: Actor, target: T): Promise<T> {
  if (actor.permissions.end_user_profile_access !== 'edit-within-org' || isAdmin(actor) || actor.id === target.id) return target;
  const shared = await db
    .selectFrom('organization_memberships as mine')
    .innerJoin('organization_memberships as theirs', (join) =>
      join.onRef('theirs.account_id', '=', 'mine.account_id').onRef('theirs.organization_id', '=', 'mine.organization_id'),
    )
    .select('mine.id')
    .where('mine.account_id', '=', accountId)
    .where('mine.user_id', '=', actor.id)
    .where('theirs.user_id', '=', target.id)
    .limit(1)
    .executeTakeFirst();
  return { ...target, shares_organization: shared !== undefined };
}

// Search
/** What a search may return to its caller (src/search/). */
export interface SearchVisibility {
  endUsers: boolean;
  organizations: boolean;
  /** Tickets: the searcher's ticket scope (below), the same filter every ticket list uses; and who is asking. */
  tickets: TicketScope;
  actorId: number;
}

/**
 * Every search endpoint (search, count, export, users/search, users/autocomplete): staff only, as
 * in Zendesk — end users get 403. An agent whose role has `end_user_list_access: none` still
 * searches, but finds agents and admins only, never end users; staff see every organization;
 * tickets as their ticket scope allows (a restricted agent: their groups', organizations' or
 * assigned tickets, as in every ticket list).
 */
export function authorizeSearch(actor: Actor): SearchVisibility {
  allow(isStaff(actor), ONLY_STAFF);
  return { endUsers: actor.permissions.end_user_list_access === 'full', organizations: true, tickets: ticketScope(actor), actorId: actor.id };
}

// Tickets
/**
 * Which tickets an actor sees (DOMAIN.md §4; issue 5 item 4). Every ticket query filters with
 * this scope, compiled to SQL in one place (src/tickets/ticket-access.ts), so a list, a count, a
 * show and an update can never disagree about what a restricted agent may touch.
 * - `all`: admins and agents whose ticket access is all;
 * - `groups`: tickets of the agent's groups (and of public groups with `publicGroups`);
 * - `organization`: tickets of the agent's organizations;
 * - `assigned`: only the tickets assigned to the agent;
 *   and in each of these three, also the tickets assigned to the agent and those they requested
 *   (a restricted agent still follows their own requests);
 * - `requester`: end users — their own requests and those they are CC'd on, plus their
 *   organizations' tickets where the organization shares tickets (or the user's own
 *   ticket_restriction is `organization`).
 */
export type TicketScope =
  | { kind: 'all' }
  | { kind: 'groups'; publicGroups: boolean }
  | { kind: 'organization' }
  | { kind: 'assigned' }
  | { kind: 'requester'; organizationWide: boolean };

export function ticketScope(actor: Actor & { ticket_restriction?: string | null }): TicketScope {
  if (!isStaff(actor)) return { kind: 'requester', organizationWide: actor.ticket_restriction === 'organization' };
  if (isAdmin(actor)) return { kind: 'all' };
  switch (actor.permissions.ticket_access) {
    case 'all':
      return { kind: 'all' };
    case 'within-groups':
      return { kind: 'groups', publicGroups: false };
    case 'within-groups-and-public-groups':
      return { kind: 'groups', publicGroups: true };
    case 'within-organization':
      return { kind: 'organization' };
    case 'assigned-only':
      return { kind: 'assigned' };
  }
}

const ONLY_STAFF_TICKETS = 'Only agents and admins use the tickets API; end users use /api/v2/requests';
const NO_TICKET_ACCESS = 'You do not have access to this ticket';

export const authorizeTickets = {
  /** The /api/v2/tickets API (lists, create, comments): agents and admins, as in Zendesk. */
  useTicketsApi(actor: Actor): void {
    allow(isStaff(actor), ONLY_STAFF_TICKETS);
  },
  /** One ticket: staff whose scope includes it (`visible`, computed by the ticket-access filter). */
  viewTicket(actor: Actor, visible: boolean): void {
    allow(isStaff(actor), ONLY_STAFF_TICKETS);
    allow(visible, NO_TICKET_ACCESS);
  },
  updateTicket(actor: Actor, visible: boolean): void {
    authorizeTickets.viewTicket(actor, visible);
  },
  /** Soft delete: staff with ticket_deletion, on a ticket they can see. */
  deleteTicket(actor: Actor, visible: boolean): void {
    need(actor, 'ticket_deletion', actor.permissions.ticket_deletion);
    allow(visible, NO_TICKET_ACCESS);
  },
  /** destroy_many: ticket_deletion and bulk_actions (each ticket is then checked on its own). */
  deleteManyTickets(actor: Actor): void {
    need(actor, 'ticket_deletion', actor.permissions.ticket_deletion);
    need(actor, 'bulk_actions', actor.permissions.bulk_actions);
  },
  /** "Close solved tickets now" (the seeds' trigger, as a button): admins. */
  closeSolvedTickets(actor: Actor): void {
    allow(isAdmin(actor), ONLY_ADMINS);
  },
  /**
   * Nobody sets `closed` by hand: a solved ticket is closed by the auto-close sweep or by an
   * admin's close_solved (DOMAIN.md §4). Answered as a 422 on the field, as Zendesk does.
   */
  settableStatus(status: string): boolean {
    return status !== 'closed';
  },
  /**
   * Users created on the way (a new requester, a CC address): the arrival paths of DOMAIN.md §2.
   * Any staff member creating a ticket for someone, and anyone submitting a request, may bring a
   * new person in — that is how people arrive — even an agent who may not otherwise create end
   * users. Only ever end users, with a name and an email.
   */
  bringInUser(actor: Actor | null, via: 'ticket' | 'request'): void {
    if (via === 'ticket') allow(actor !== null && isStaff(actor), ONLY_STAFF_TICKETS);
  },
  /**
   * Requests (POST /api/v2/requests): any signed-in user, or an anonymous visitor when the
   * account allows anonymous requests.
   */
  submitRequest(actor: Actor | null, anonymousAllowed: boolean): void {
    if (actor === null && !anonymousAllowed) throw errors.unauthenticated();
  },
  /** A user's or an organization's ticket list: staff (filtered by their scope), or an end user's own. */
  listUserTickets(actor: Actor, userId: number): void {
    allow(isStaff(actor) || actor.id === userId, ONLY_SELF);
  },
};

// Suspended and deleted tickets
/**
 * The privacy side of tickets (DOMAIN.md §4 and §6; issue 5 items 5–7): redaction, the Deleted
 * tickets view and its permanent deletion, and the suspended tickets queue. Which tickets a rule
 * applies to is still the actor's ticket scope (the `// Tickets` block): these rules say who may
 * use each tool at all.
 */
export const authorizeTicketPrivacy = {
  /** Redacting comment text or attachments: staff whose role grants `redact` (admins; agents by custom role). */
  redact(actor: Actor): void {
    need(actor, 'redact', actor.permissions.redact);
  },
  /** The Deleted tickets view: staff with `view_deleted_tickets`. */
  viewDeletedTickets(actor: Actor): void {
    need(actor, 'view_deleted_tickets', actor.permissions.view_deleted_tickets);
  },
  /** Restoring or permanently deleting soft-deleted tickets: whoever may delete tickets; `_many` also takes bulk_actions. */
  manageDeletedTickets(actor: Actor, many: boolean): void {
    need(actor, 'ticket_deletion', actor.permissions.ticket_deletion);
    if (many) need(actor, 'bulk_actions', actor.permissions.bulk_actions);
  },
  /**
   * The suspended tickets queue: admins and unrestricted agents (Zendesk's rule on plans without
   * a "manage suspended tickets" role permission). A restricted agent could otherwise read
   * submissions from outside their scope: a suspended ticket belongs to no group yet.
   */
  manageSuspendedTickets(actor: Actor): void {
    allow(isStaff(actor), ONLY_STAFF);
    if (isAdmin(actor)) return;
    allow(!isRestricted(actor.permissions), 'Only admins and agents with access to all tickets manage suspended tickets');
  },
};

// Privacy: forget user
/**
 * Forget user (issue 7 item 4; DOMAIN.md §6 "Erasure"): admins, and agents whose custom role
 * grants `erase_users` and who see every ticket (an erasure reaches into all of them). Whom may be
 * erased is the soft delete's rule on top (owner, self, agents end users only, last admin, shared
 * placeholders: src/lifecycle/soft-delete-user.ts checkDeletable). Deleting tickets as part of it
 * also takes `ticket_deletion`. Receipts: whoever may erase.
 */
export const authorizeErasure = {
  eraseUser(actor: Actor, deletesTickets: boolean): void {
    need(actor, 'erase_users', actor.permissions.erase_users);
    if (!isAdmin(actor)) need(actor, 'ticket_access', actor.permissions.ticket_access === 'all');
    if (deletesTickets) need(actor, 'ticket_deletion', actor.permissions.ticket_deletion);
  },
  viewReceipts(actor: Actor): void {
    need(actor, 'erase_users', actor.permissions.erase_users);
  },
};

// Imports
/**
 * CSV imports of users (DOMAIN.md §2 item 5; seed 001: "administrators can add multiple users at
 * once by bulk importing"): admins start them and read their reports. Each row is still checked
 * as the user API checks it (creating agents, changing an admin's email, the owner), under the
 * starter's permissions as they are when the job runs.
 */
export const authorizeImports = {
  importUsers(actor: Actor): void {
    allow(isAdmin(actor), 'Only admins can import users');
  },
  viewImports(actor: Actor): void {
    allow(isAdmin(actor), 'Only admins can see imports');
  },
};

// Data exports
/**
 * Personal-data exports (right of access and portability) and the full users export (seed 002
 * "Exporting user data"), issue 7 items 1–2. Anyone signed in may export their own data; staff
 * export someone else's with `export_personal_data` (admins; agents by custom role), agents for
 * end users only; all users at once is for admins. An export is seen and downloaded by whoever
 * asked for it, the person it is about, and admins.
 */
export const authorizeExports = {
  personalData(actor: Actor, subject: Target): void {
    if (actor.id === subject.id) return;
    need(actor, 'export_personal_data', actor.permissions.export_personal_data);
    if (!isAdmin(actor)) allow(subject.role === 'end-user', "Agents export end users' data only; agents' and admins' data is exported by admins");
  },
  allUsers(actor: Actor): void {
    allow(isAdmin(actor), 'Only admins can export all users');
  },
  viewExport(actor: Actor, exported: { kind: string; subject_user_id: number | null; requested_by: number | null }): void {
    if (isAdmin(actor) || exported.requested_by === actor.id) return;
    allow(exported.kind === 'personal_data' && exported.subject_user_id === actor.id, 'Only the person who asked for an export, the person it is about and admins can see it');
  },
};

// Inbound mail
/**
 * Mail to a support address (issue 8 item 4; README "Inbound mail"). The API route hands a raw
 * message in as if it came by SMTP, creating users and tickets as whoever sent it: admins only.
 * A reply by mail comments on a ticket only when its sender is a live, unsuspended user who may
 * see that ticket (the same visibility rule as the API's); anyone else's mail starts a request
 * of its own, and a suspended sender's becomes a suspended ticket.
 */
export const authorizeInboundMail = {
  receiveByApi(actor: Actor): void {
    allow(isAdmin(actor), 'Only admins can submit inbound email');
  },
  mayReplyByMail(sender: Pick<Actor, 'active' | 'suspended'>, visible: boolean): boolean {
    return sender.active && !sender.suspended && visible;
  },
};

// Audit logs
/**
 * The audit log API (issue 7 item 6): admins only, as in Zendesk. Entries hold actions and field
 * names, never values, but who changed what and when is still the account's business.
 */
export const authorizeAuditLogs = {
  view(actor: Actor): void {
    allow(isAdmin(actor), 'Only admins can see the audit log');
  },
};

/**
 * Mail (issue 8). The outbox lists every message with its recipient and text: admins only. A
 * message's one-time link (welcome, verification, reset) is shown only to an admin who could set
 * that user's password anyway (setPassword above: an admin's link only to the owner, nobody's
 * own); to anyone else it stays masked, so reading the outbox is never a way into an account.
 */
export const authorizeMail = {
  viewOutbox(actor: Actor): void {
    allow(isAdmin(actor), 'Only admins can see the outbox');
  },
  seesLinksOf(actor: Actor, recipient: Target): boolean {
    return isAdmin(actor) && actor.id !== recipient.id && !recipient.is_owner && (recipient.role !== 'admin' || actor.is_owner);
  },
};
