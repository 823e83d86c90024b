import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportFiles, newStorageKey, partFileName } from '../../src/privacy/exports/export-files.ts';
import { removeExportsHolding } from '../../src/privacy/exports/remove-exports.ts';
import { createTestApp, type TestApp } from '../helpers.ts';

let t: TestApp;
let files: ExportFiles;

beforeAll(async () => {
  t = await createTestApp();
  files = new ExportFiles(fs.mkdtempSync(path.join(os.tmpdir(), 'roster-remove-exports-')));
});

afterAll(async () => {
  await t.close();
});

async function exportRow(kind: 'personal_data' | 'users', subject: number | null, content: string): Promise<{ id: number; key: string }> {
  const key = newStorageKey();
  await files.writePart(key, 0, [content]);
  const row = await t.runtime.database.db
    .insertInto('data_exports')
    .values({ account_id: t.account.id, kind, subject_user_id: subject, requested_by: t.owner.id, status: 'completed', storage_key: key, options: JSON.stringify({ parts: 1 }), completed_at: new Date(), expires_at: new Date(Date.now() + 86_400_000) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, key };
}

const statusOf = async (id: number) =>
  t.runtime.database.db.selectFrom('data_exports').select(['status', 'storage_key']).where('account_id', '=', t.account.id).where('id', '=', id).executeTakeFirstOrThrow();

describe('removeExportsHolding', () => {
  it('encrypts export files: the plaintext never reaches the disk, and reads back whole', async () => {
    const { key } = await exportRow('users', null, '{"email":"plain-secret@example.com"}\n');
    const raw = fs.readFileSync(path.join(files.directory, partFileName(key, 0)));
    expect(raw.includes(Buffer.from('plain-secret'))).toBe(false);
    expect(await text(files.read(key, 1))).toBe('{"email":"plain-secret@example.com"}\n');
  });

  it("removes the person's own exports and every users export, not other people's; a rollback leaves them readable", async () => {
    const person = await t.user({ name: 'Export Holder' });
    const other = await t.user({ name: 'Someone Else' });
    const own = await exportRow('personal_data', person.id, 'mine');
    const all = await exportRow('users', null, 'everyone');
    const theirs = await exportRow('personal_data', other.id, 'theirs');

    // Rolled back: nothing changes and the files stay readable.
    await expect(
      t.runtime.database.db.transaction().execute(async (tx) => {
        expect(await removeExportsHolding(tx, t.account.id, person.id)).toBeGreaterThanOrEqual(2);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await statusOf(own.id)).storage_key).toBe(own.key);
    expect(await text(files.read(own.key, 1))).toBe('mine');

    // Permanently deleting the person (soft delete, then DELETE /deleted_users) removes them.
    expect((await t.request('DELETE', `/api/v2/users/${person.id}`)).statusCode).toBe(200);
    expect((await t.request('DELETE', `/api/v2/deleted_users/${person.id}`)).statusCode).toBe(200);
    expect(await statusOf(own.id)).toEqual({ status: 'deleted', storage_key: null });
    expect(await statusOf(all.id)).toEqual({ status: 'deleted', storage_key: null });
    expect(await statusOf(theirs.id)).toEqual({ status: 'completed', storage_key: theirs.key });
  });

  it('touches only the given account', async () => {
    const person = await t.user({ name: 'Tenant Person' });
    const all = await exportRow('users', null, 'everyone');
    const count = await t.runtime.database.db.transaction().execute((tx) => removeExportsHolding(tx, t.account.id + 1000, person.id));
    expect(count).toBe(0);
    expect((await statusOf(all.id)).status).toBe('completed');
  });
});
