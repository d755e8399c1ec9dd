/**
 * The network owner and country of an alert's address, from enrichment to every place a person or a machine reads
 * the alert: the document (ECS `source.as`, `source.geo`), its sentence, the email, the Chatbot card, the digest,
 * the CLI table, the SNS copy and the ledger's bounded copy.
 */
import { describe, expect, it } from 'vitest';
import { alertDetail, alertMessage } from '../../../shared/adapters/sns-alert-sink';
import { LEDGER_DOCUMENT_MAX_BYTES } from '../../../shared/adapters/items/size';
import {
  CHATBOT_DESCRIPTION_MAX_CHARS,
  CHATBOT_TITLE_MAX_CHARS,
  chatbotNotification,
  cutNotification,
  digestText,
  emailText,
} from '../../../shared/core/alert-text';
import { alertDocument, alertOwner, boundAlertDocument, ORG_NAME_MAX_CHARS } from '../../../shared/core/alerts';
import { enrichObservations } from '../../../shared/core/enrich';
import type { Alert, AlertBatch, LogonObservation, NetworkOwner } from '../../../shared/core/model';
import { alertTable } from '../../../cli/format';
import { renderShow } from '../../../cli/operator';
import { ALERT_WINDOW, makeAlert, type AlertOptions } from '../../support/alerts';
import { fixtureDb } from '../network-data/support';

/** The owner the checked-in extract of IPtoASN's file gives an address, as a run's enrichment finds it. */
function ownerFromExtract(ip: string): NetworkOwner | undefined {
  const o: LogonObservation = {
    user: 'alice',
    sourceIp: ip,
    outcome: 'success',
    count: 1,
    firstSeen: 0,
    lastSeen: 0,
    hosts: [],
    methods: [],
    logSource: 'sshd',
  };
  return enrichObservations([o], fixtureDb()).observations[0]!.owner;
}

function google(o: AlertOptions = {}): Alert {
  const owner = ownerFromExtract('8.8.8.8');
  return makeAlert({ detector: 'ip', ip: '8.8.8.8', ...(owner ? { owner } : {}), ...o });
}

const NAMED = '8.8.8.8 (AS15169 GOOGLE, US)';

describe('an alert for a logon from 8.8.8.8, with the test extract loaded', () => {
  it('carries AS15169, GOOGLE and US under their ECS names, and its sentence names them', () => {
    const a = google();
    expect(a.source).toEqual({
      ip: '8.8.8.8',
      as: { number: 15169, organization: { name: 'GOOGLE' } },
      geo: { country_iso_code: 'US' },
    });
    expect(a.explanation).toContain('Network owner of the address: AS15169 GOOGLE, US.');
    const doc = JSON.parse(alertDocument(a)) as Record<string, Record<string, unknown>>;
    expect(doc.source).toMatchObject({ as: { number: 15169 }, geo: { country_iso_code: 'US' } });
  });

  it('names owner and country in the email, the Chatbot card, the digest, the cut card and the CLI table', () => {
    const a = google();
    const email = emailText(a);
    expect(email.split('\n')[0]).toContain(`from ${NAMED}`);
    expect(email).toMatch(new RegExp(`Source IP: +${NAMED.replace(/[().]/g, '\\$&')}\\n`));

    const card = chatbotNotification(a);
    expect(card.content.title).toContain(`from ${NAMED}`);
    expect(card.content.description).toContain(`*Source IP:* ${NAMED}`);

    const batch: AlertBatch = { runId: 'run-1', window: ALERT_WINDOW, alerts: [a], cut: [a] };
    expect(digestText(batch)).toContain(`from ${NAMED} on web-01`);
    expect(cutNotification(batch)!.content.description).toContain(`from ${NAMED}`);

    expect(alertTable([a], undefined, 200)).toContain(`${NAMED} → web-01`);
  });

  it('keeps them in every trimmed SNS copy and in the ledger copy, which stays far below its 16 KiB bound', () => {
    const a = google();
    for (const level of [1, 2, 3] as const)
      expect(alertDetail(a, level).source).toMatchObject({ as: { number: 15169 }, geo: { country_iso_code: 'US' } });
    const sent = JSON.parse(alertMessage(a)) as { default: string; email: string };
    expect((JSON.parse(sent.default) as Alert).source.as?.organization?.name).toBe('GOOGLE');
    expect(sent.email).toContain(NAMED);
    // The largest owner a document can carry (the name at its bound): the ledger keeps the document whole.
    const big = makeAlert({ detector: 'ip', owner: { asn: 4_294_967_295, org: 'O'.repeat(10_000), country: 'US' } });
    const doc = alertDocument(big);
    expect(Buffer.byteLength(doc)).toBeLessThan(LEDGER_DOCUMENT_MAX_BYTES / 2);
    expect(boundAlertDocument(doc, LEDGER_DOCUMENT_MAX_BYTES)).toBe(doc);
  });

  it('authwatch show renders the kept document with them', () => {
    const a = google();
    const document = alertDocument(a);
    const shown = renderShow(
      {
        alertId: a.id,
        detectorId: a.rule.id,
        user: a.user.name,
        userTruncated: false,
        sourceIp: a.source.ip,
        raisedAt: ALERT_WINDOW.end.toString(),
        document,
        alert: JSON.parse(document) as Alert,
      },
      100,
    );
    expect(shown).toMatch(new RegExp(`Source IP: +${NAMED.replace(/[().]/g, '\\$&')}\n`));
  });

  it('does not name the AS twice when the detector already did', () => {
    const owner = ownerFromExtract('8.8.8.8')!;
    const said = 'alice logged on from 8.8.8.8, the network AS15169 GOOGLE (US), new for this user.';
    expect(makeAlert({ ip: '8.8.8.8', owner, explanation: said }).explanation).toBe(said);
    // AS151690 is another AS: its sentence does not name this one.
    const other = 'alice logged on from 8.8.8.8, the network AS151690 OTHER, new for this user.';
    expect(makeAlert({ ip: '8.8.8.8', owner, explanation: other }).explanation).toBe(
      `${other} Network owner of the address: AS15169 GOOGLE, US.`,
    );
  });
});

describe('without network data', () => {
  it('an alert has no as or geo object, and its texts show the bare address', () => {
    const a = makeAlert({ detector: 'ip', ip: '8.8.8.8' });
    expect(a.source).toEqual({ ip: '8.8.8.8' });
    expect(alertDocument(a)).not.toMatch(/"as"|"geo"/);
    expect(a.explanation).not.toContain('Network owner');
    expect(emailText(a)).toMatch(/Source IP: +8\.8\.8\.8\n/);
    expect(chatbotNotification(a).content.description).toContain('*Source IP:* 8.8.8.8\n');
  });

  it('an address the data does not know (private, unrouted) stays bare too', () => {
    expect(ownerFromExtract('10.1.2.3')).toBeUndefined();
  });

  it('an owner without an organisation or a country leaves those fields out rather than empty', () => {
    const a = makeAlert({ owner: { asn: 64500, org: '' } });
    expect(a.source).toEqual({ ip: '203.0.113.9', as: { number: 64500 } });
    expect(emailText(a)).toContain('203.0.113.9 (AS64500)');
  });
});

describe('a hostile or broken organisation name', () => {
  const HOSTILE_ORG =
    '*EVIL*_corp_ [click](http://evil.example) <!channel> @here\nFAKE LINE: all clear\r\u202eevil\u0007' +
    'Z'.repeat(20_000);
  const a = makeAlert({ detector: 'ip', owner: { asn: 64501, org: HOSTILE_ORG, country: 'DE' } });

  it('is bounded in the document, which keeps the AS number and the country', () => {
    expect(a.source.as!.organization!.name.length).toBeLessThanOrEqual(ORG_NAME_MAX_CHARS);
    expect(a.source.geo).toEqual({ country_iso_code: 'DE' });
    expect(alertOwner(a)).toMatchObject({ asn: 64501, country: 'DE' });
  });

  it('is single-line, printable and short in the email and the CLI table, with AS and country still shown', () => {
    const email = emailText(a);
    const source = /Source IP: +(.*)\n/.exec(email)![1]!;
    expect(source).toMatch(/^203\.0\.113\.9 \(AS64501 \*EVIL\*_corp_ .*…, DE\)$/);
    expect(source.length).toBeLessThan(140);
    expect(email).not.toContain('\nFAKE LINE');
    const unsafe = [...email].filter((c) => c !== '\n' && (c.charCodeAt(0) < 0x20 || c === '\u202e'));
    expect(unsafe).toEqual([]);
    for (const l of email.split('\n')) expect(l.length, l).toBeLessThan(1_600);
    const table = alertTable([a], undefined, 100);
    expect(table).not.toContain('\nFAKE LINE');
    expect(table).toContain(', DE)');
  });

  it('is inert markdown in the Chatbot card, within its bounds', () => {
    const card = chatbotNotification(a);
    for (const text of [card.content.title, card.content.description]) {
      expect(text).not.toContain('<!channel>');
      expect(text).not.toContain('[click]');
      expect(text).not.toMatch(/(^|[^\\])\*EVIL/);
      expect(text).not.toContain('@here');
    }
    expect(card.content.description).toMatch(/\*Source IP:\* 203\.0\.113\.9 \(AS64501 \\\*EVIL\\\*.*…, DE\)/);
    expect(card.content.title.length).toBeLessThanOrEqual(CHATBOT_TITLE_MAX_CHARS);
    expect(card.content.description.length).toBeLessThanOrEqual(CHATBOT_DESCRIPTION_MAX_CHARS);
  });

  it('a document edited by hand into another shape names no owner rather than a wrong one', () => {
    const edited = { ...a, source: { ip: '1.2.3.4', as: { number: '64501' } } } as unknown as Alert;
    expect(alertOwner(edited)).toBeUndefined();
    expect(emailText(edited)).toMatch(/Source IP: +1\.2\.3\.4\n/);
  });
});
