import { itemFailure, type ItemJobDefinition } from '../jobs/jobs.ts';
import type { Mail } from '../mail/outbox.ts';
import { sendWelcomeMail } from '../mail/welcome.ts';
import { createOrUpdateUser } from './create-or-update-user.ts';
import { createUser } from './create-user.ts';
import { updateUser } from './update-user.ts';
import { parseUserInput } from './user-input.ts';

export const CREATE_MANY_USERS = 'create_many_users';
export const CREATE_OR_UPDATE_MANY_USERS = 'create_or_update_many_users';

/** The welcome mail of a created user is written in the item's transaction (src/mail/welcome.ts). */
export function createManyUsers(mail: Mail): ItemJobDefinition<unknown> {
  return {
    type: CREATE_MANY_USERS,
    async run(tx, { account, actor }, item, index) {
      const id = await createUser(tx, account, actor, parseUserInput(item, 'create'));
      await sendWelcomeMail(tx, mail, account, actor, id);
      return { index, id, action: 'create', status: 'Created', success: true };
    },
    failure: (_item, index, error) => itemFailure(index, error),
  };
}

export function createOrUpdateManyUsers(mail: Mail): ItemJobDefinition<unknown> {
  return {
    type: CREATE_OR_UPDATE_MANY_USERS,
    async run(tx, { account, actor }, item, index) {
      const { id, created } = await createOrUpdateUser(tx, account, actor, item);
      if (created) await sendWelcomeMail(tx, mail, account, actor, id);
      return { index, id, action: created ? 'create' : 'update', status: created ? 'Created' : 'Updated', success: true };
    },
    failure: (_item, index, error) => itemFailure(index, error),
  };
}

export interface UpdateItem {
  id: number;
  user: unknown;
}

export const updateManyUsers: ItemJobDefinition<UpdateItem> = {
  type: 'update_many_users',
  async run(tx, { account, actor }, item, index) {
    await updateUser(tx, account, actor, item.id, parseUserInput(item.user, 'update'));
    return { index, id: item.id, action: 'update', status: 'Updated', success: true };
  },
  failure: (item, index, error) => itemFailure(index, error, item.id),
};

export function userJobs(mail: Mail) {
  return [createManyUsers(mail), createOrUpdateManyUsers(mail), updateManyUsers] as const;
}
