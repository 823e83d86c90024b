import type { Role, UserRow } from '../db/tables.ts';
import { errors } from '../http/errors.ts';

/**
 * Who may do what (DOMAIN.md §1), in one place. Routes call `authorize.*` before any domain
 * work; every rule here throws 403 Forbidden (or 404 where existence itself must stay hidden).
 */
export type Actor = Pick<UserRow, 'id' | 'role' | 'is_owner' | 'active' | 'suspended'>;
type Target = Pick<UserRow, 'id' | 'role' | 'is_owner'>;

export const isStaff = (actor: Actor): boolean => actor.role === 'agent' || actor.role === 'admin';
export const isAdmin = (actor: Actor): boolean => actor.role === 'admin';

function allow(condition: boolean): void {
  if (!condition) throw errors.forbidden();
}

/** Fields only staff may set on a user; end users editing themselves get the rest. */
const END_USER_SELF_FIELDS = new Set(['name', 'locale', 'locale_id', 'time_zone', 'iana_time_zone', 'photo', 'phone', 'email', 'alias', 'remote_photo_url']);

export const authorize = {
  staff(actor: Actor): void {
    allow(isStaff(actor));
  },
  admin(actor: Actor): void {
    allow(isAdmin(actor));
  },
  owner(actor: Actor): void {
    allow(actor.is_owner);
  },
  /** Staff see every user; an end user sees only themselves. */
  viewUser(actor: Actor, target: Target): void {
    allow(isStaff(actor) || actor.id === target.id);
  },
  listUsers(actor: Actor): void {
    allow(isStaff(actor));
  },
  /** Agents create end users; admins create anyone (the owner is made only at bootstrap). */
  createUser(actor: Actor, role: Role): void {
    allow(isAdmin(actor) || (actor.role === 'agent' && role === 'end-user'));
  },
  /**
   * Agents manage end users (and their own profile); admins manage everyone; only the owner
   * touches another admin's email or password; nobody changes their own role (or the owner's),
   * nor suspends themselves (an owner doing so would lock the whole account out).
   */
  updateUser(actor: Actor, target: Target, fields: string[]): void {
    const self = actor.id === target.id;
    if (self) {
      allow(!fields.includes('role') && !fields.includes('custom_role_id') && !fields.includes('suspended'));
      if (!isStaff(actor)) allow(fields.every((field) => END_USER_SELF_FIELDS.has(field)));
      return;
    }
    allow(authorize.canManage(actor, target));
    if (target.role === 'admin' && !actor.is_owner) {
      allow(!fields.includes('email') && !fields.includes('password') && !fields.includes('identities'));
    }
    if (target.is_owner) allow(!fields.includes('role'));
    if (fields.includes('role')) allow(isAdmin(actor));
  },
  /** Changing a role: admins only, never their own, and never the owner's. */
  assignRole(actor: Actor, target: Target | null, role: Role): void {
    if (role !== 'end-user' || (target && target.role !== 'end-user')) allow(isAdmin(actor));
    if (target) allow(target.id !== actor.id && !target.is_owner);
  },
  canManage(actor: Actor, target: Target): boolean {
    if (actor.id === target.id) return true;
    if (isAdmin(actor)) return !target.is_owner || actor.is_owner;
    return actor.role === 'agent' && target.role === 'end-user';
  },
  manageUser(actor: Actor, target: Target): void {
    allow(authorize.canManage(actor, target));
  },
  /** Identities are contact details: email/login changes on an admin are the owner's alone. */
  manageIdentities(actor: Actor, target: Target): void {
    allow(authorize.canManage(actor, target));
    if (target.role === 'admin' && actor.id !== target.id) allow(actor.is_owner);
  },
  /** Setting someone else's password: admins; an admin's password only by the owner. */
  setPassword(actor: Actor, target: Target): void {
    allow(isAdmin(actor) && actor.id !== target.id);
    if (target.role === 'admin') allow(actor.is_owner);
    if (target.is_owner) allow(false);
  },
  changeOwnPassword(actor: Actor, target: Target): void {
    allow(actor.id === target.id);
  },
};
