import { describe, expect, it } from 'vitest';
import { parseInboxAddress, supportAddress, ticketFromTag, ticketTag } from '../../src/mail/inbound/addresses.ts';
import { DEFAULT_INBOUND_PORT, DEFAULT_MAX_BYTES, InboundMailConfigError, loadInboundMailConfig } from '../../src/mail/inbound/inbound-config.ts';

describe('support addresses', () => {
  it('support@<sub>.<domain> and <sub>@<domain> name the account; a +tag is kept apart', () => {
    expect(parseInboxAddress('support@acme.mail.example.org', 'mail.example.org')).toEqual({ subdomain: 'acme', tag: undefined });
    expect(parseInboxAddress('ACME@Mail.Example.org', 'mail.example.org')).toEqual({ subdomain: 'acme', tag: undefined });
    expect(parseInboxAddress('support+id12-abc@acme.mail.example.org', 'mail.example.org')).toEqual({ subdomain: 'acme', tag: 'id12-abc' });
    expect(supportAddress('acme', 'mail.example.org', 'x')).toBe('support+x@acme.mail.example.org');
  });

  it('anything else names no account', () => {
    for (const address of ['help@acme.mail.example.org', 'support@a.b.mail.example.org', 'acme@example.org', 'support@mail.example.org.evil.test', '@mail.example.org', 'not-an-address', '-bad-@mail.example.org']) {
      expect(parseInboxAddress(address, 'mail.example.org'), address).toBeUndefined();
    }
  });

  it('a ticket tag checks out only with its own key, account and ticket', () => {
    const tag = ticketTag('key-1', 7, 42);
    expect(tag).toMatch(/^id42-[0-9a-f]{12}$/);
    expect(ticketFromTag(tag, 'key-1', 7)).toBe(42);
    expect(ticketFromTag(tag, 'key-2', 7)).toBeUndefined();
    expect(ticketFromTag(tag, 'key-1', 8)).toBeUndefined();
    expect(ticketFromTag(tag.replace('id42', 'id43'), 'key-1', 7)).toBeUndefined();
    expect(ticketFromTag('id42', 'key-1', 7)).toBeUndefined();
    expect(ticketFromTag(undefined, 'key-1', 7)).toBeUndefined();
  });
});

describe('inbound mail configuration', () => {
  it('defaults: port 2525, 25 MiB, MAIL_DOMAIN from ROSTER_BASE_DOMAIN else localhost', () => {
    expect(loadInboundMailConfig({})).toEqual({ port: DEFAULT_INBOUND_PORT, host: '0.0.0.0', mailDomain: 'localhost', maxBytes: DEFAULT_MAX_BYTES });
    expect(loadInboundMailConfig({ ROSTER_BASE_DOMAIN: 'Roster.Example.org', HOST: '127.0.0.1' })).toMatchObject({ mailDomain: 'roster.example.org', host: '127.0.0.1' });
  });

  it('0 picks a free port, off turns the listener off; nonsense is refused at start', () => {
    expect(loadInboundMailConfig({ SMTP_INBOUND_PORT: '0' }).port).toBe(0);
    expect(loadInboundMailConfig({ SMTP_INBOUND_PORT: 'off' }).port).toBeNull();
    expect(() => loadInboundMailConfig({ SMTP_INBOUND_PORT: '70000' })).toThrow(InboundMailConfigError);
    expect(() => loadInboundMailConfig({ INBOUND_MAIL_MAX_BYTES: '12' })).toThrow(InboundMailConfigError);
    expect(() => loadInboundMailConfig({ MAIL_DOMAIN: 'not a domain' })).toThrow(InboundMailConfigError);
  });
});
