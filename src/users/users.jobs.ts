import { itemFailure, type ItemJobDefinition } from '../jobs/jobs.ts';
import { createOrUpdateUser } from './create-or-update-user.ts';
import { createUser } from './create-user.ts';
import { updateUser } from './update-user.ts';
import { parseUserInput } from './user-input.ts';

export const createManyUsers: ItemJobDefinition<unknown> = {
  type: 'create_many_users',
  async run(tx, { account, actor }, item, index) {
    const id = await createUser(tx, account, actor, parseUserInput(item, 'create'));
    return { index, id, action: 'create', status: 'Created', success: true };
  },
  failure: (_item, index, error) => itemFailure(index, error),
};

export const createOrUpdateManyUsers: ItemJobDefinition<unknown> = {
  type: 'create_or_update_many_users',
  async run(tx, { account, actor }, item, index) {
    const { id, created } = await createOrUpdateUser(tx, account, actor, item);
    return { index, id, action: created ? 'create' : 'update', status: created ? 'Created' : 'Updated', success: true };
  },
  failure: (_item, index, error) => itemFailure(index, error),
};

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

export const userJobs = [createManyUsers, createOrUpdateManyUsers, updateManyUsers] as const;
