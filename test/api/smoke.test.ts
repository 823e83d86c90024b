import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('smoke', () => {
  it('serves /users/me for the owner', async () => {
    const response = await t.request('GET', '/api/v2/users/me');
    expect(response.statusCode).toBe(200);
    expect(response.json().user.email).toBe('owner@roster.test');
  });
  it('runs a create_many job', async () => {
    const response = await t.request('POST', '/api/v2/users/create_many', { body: { users: [{ name: 'A', email: 'a@roster.test' }] } });
    expect(response.statusCode).toBe(200);
    const job = await t.waitForJob(response.json().job_status.id);
    expect(job.status).toBe('completed');
  });
  it('resets', async () => {
    await t.reset();
    const response = await t.request('GET', '/api/v2/users/count');
    expect(response.json().count.value).toBe(1);
  });
});
