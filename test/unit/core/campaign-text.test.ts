/**
 * How an alert about a source (a campaign: no user, its users listed) reads in the email, chat, the digest and the
 * CLI, and how a per-user alert says it is part of one; the users' names are untrusted like any user name.
 */
import { describe, expect, it } from 'vitest';
import { alertTable } from '../../../cli/format';
import {
  chatbotNotification,
  cutNotification,
  digestText,
  emailSubject,
  emailText,
  SUBJECT_MAX_CHARS,
} from '../../../shared/core/alert-text';
import { buildAlert, withSilenceTarget } from '../../../shared/core/alerts';
import { passwordSpray } from '../../../shared/core/detectors/password-spray';
import type { Alert, CampaignUser, Finding } from '../../../shared/core/model';
import { alertDetail, alertMessage } from '../../../shared/adapters/sns-alert-sink';
import { InMemoryBaselineStore } from '../../../shared/adapters/in-memory-baseline-store';
import { markBenign } from '../../../shared/feedback';
import { AuthwatchError } from '../../../shared/errors';
import { ALERT_T, ALERT_WINDOW, makeAlert } from '../../support/alerts';

const OWNER = { asn: 64500, org: 'EXAMPLE-HOSTING', country: 'NL' };

function spray(users: CampaignUser[], total = users.length): Alert {
  const f: Finding = {
    detectorId: passwordSpray.id,
    user: '',
    sourceIp: '203.0.113.9',
    sourceKey: '203.0.113.9',
    outcome: 'success',
    observation: {
      user: '',
      sourceIp: '203.0.113.9',
      outcome: 'success',
      count: 162,
      firstSeen: ALERT_T - 20 * 60_000,
      lastSeen: ALERT_T - 5 * 60_000,
      hosts: ['web-01'],
      methods: ['password'],
      logSource: 'sshd',
      owner: OWNER,
    },
    users,
    usersTotal: total,
    score: 97,
    probability: 0.0002,
    explanation: `203.0.113.9 (AS64500 EXAMPLE-HOSTING, NL) failed to log on as ${total} different users in 30 minutes. 2 of the users then logged on from it: ${users[0]!.name}, ${users[1]!.name}.`,
    evidence: { users_tried: total },
  };
  return buildAlert(f, passwordSpray, ALERT_WINDOW, 75, { failedAttemptsFromIp: 160, otherIpsInWindow: [] });
}

const USERS: CampaignUser[] = [
  { name: 'alice', failures: 2, successes: 1, known: true },
  { name: 'bob', failures: 3, successes: 1, known: true },
  ...Array.from({ length: 48 }, (_, i) => ({ name: `staff${i}`, failures: 2, successes: 0, known: true })),
];

describe('an alert about a source', () => {
  const a = spray(USERS, 80);

  it('names the source and the count in the subject, within the SNS bound', () => {
    const s = emailSubject(a);
    expect(s).toBe('authwatch: Password spray (score 97) from 203.0.113.9 (AS64500, NL): 80 users, 2 logged on');
    expect(s.length).toBeLessThanOrEqual(SUBJECT_MAX_CHARS);
  });

  it('lists its users with what the source did with each, bounded, in the email and the digest', () => {
    const text = emailText(a);
    expect(text).toContain(
      'Password spraying from one source: 203.0.113.9 (AS64500 EXAMPLE-HOSTING, NL): 80 users, 2 logged on',
    );
    expect(text).toContain('  - alice: 2 failed, 1 logged on');
    expect(text).toContain('  - staff0: 2 failed');
    expect(text).toContain('and 60 more (the alert JSON lists 50)');
    expect(text).not.toContain('staff30');
    expect(text).toContain('Users:                                     80 users, 2 logged on');
    const digest = digestText({ runId: 'r1', window: ALERT_WINDOW, alerts: [a, makeAlert()], cut: [] });
    expect(digest).toContain('ALERTS (campaigns first');
    expect(digest).toMatch(
      / {2}1\. score 97, Password spray: 203\.0\.113\.9 \(AS64500 EXAMPLE-HOSTING, NL\): 80 users, 2 logged on, on web-01/,
    );
  });

  it('names the alerts linked to it and folded into it, and a per-user alert names its campaign', () => {
    const c: Alert = { ...a, campaign: { ...a.campaign, linked: ['bfs-1'], folded: ['ip-1', 'ip-2'] } };
    expect(emailText(c)).toContain('Alerts linked to this campaign (sent on their own): bfs-1.');
    expect(emailText(c)).toContain('Alerts folded into this campaign (not sent on their own): ip-1, ip-2.');
    const member: Alert = { ...makeAlert({ user: 'alice' }), campaign: { of: c.id } };
    expect(emailText(member)).toContain(`Part of campaign ${c.id}.`);
    expect(chatbotNotification(member).content.description).toContain(`Part of campaign ${c.id}.`);
    expect(alertTable([member], undefined, 120)).toContain(`Part of campaign ${c.id}.`);
  });

  it('makes its users’ names safe in every format', () => {
    const hostile = spray(
      [
        { name: 'eve\nSubject: forged', failures: 1, successes: 1, known: true },
        { name: '<!channel> *bold* [x](http://evil)', failures: 1, successes: 1, known: false },
        ...USERS.slice(2, 6),
      ],
      6,
    );
    const email = emailText(hostile);
    expect(email).not.toContain('eve\nSubject');
    const chat = chatbotNotification(hostile);
    expect(chat.content.description).not.toContain('<!channel>');
    expect(chat.content.description).not.toContain('](http');
    expect(chat.content.title).toContain('203.0.113.9');
    expect(chat.metadata.threadId).toMatch(/^authwatch-source-[0-9a-f]{20}$/);
    const table = alertTable([hostile], undefined, 400);
    expect(table).toContain('(6 users)');
    expect(table).not.toContain('eve\nSubject');
    expect(table).toContain('(not a user here)');
  });

  it('goes through the SNS message and the silence target with its empty user name', () => {
    const delivered = withSilenceTarget(a, { tableName: 'authwatch-baselines', region: 'eu-west-1' });
    expect(delivered.silence.join('\n')).toContain(
      'AWS_REGION=eu-west-1 npm run authwatch -- allow cidr 203.0.113.9/32 --table authwatch-baselines',
    );
    expect(delivered.silence.join('\n')).toContain('allow asn 64500');
    expect(delivered.silence.join('\n')).not.toContain('--user');
    const message = JSON.parse(alertMessage(delivered)) as { default: string; email: string };
    expect(JSON.parse(message.default).campaign.users).toHaveLength(50);
    expect(message.email).toContain('80 users, 2 logged on');
    // Trimmed to its core to fit SNS, it still says what it is about.
    expect(alertDetail(a, 3).campaign).toMatchObject({ source: '203.0.113.9', total: 80 });
    expect(alertDetail(a, 3).campaign?.users).toHaveLength(3);
  });

  it('is counted, not named one by one, in the cut card', () => {
    const card = cutNotification({ runId: 'r', window: ALERT_WINDOW, alerts: [], cut: [a] })!;
    expect(card.content.description).toContain('203.0.113.9 (AS64500 EXAMPLE-HOSTING, NL): 80 users, 2 logged on');
  });

  it('cannot be marked benign (there is no user whose places to learn): the error says to allow the source', async () => {
    const store = new InMemoryBaselineStore();
    await store.recordRaisedAlerts([
      {
        id: a.id,
        detectorId: passwordSpray.id,
        user: '',
        sourceIp: '203.0.113.9',
        raisedAtMs: ALERT_T,
        expiresAtEpochSeconds: Math.floor(ALERT_T / 1000) + 86_400,
      },
    ]);
    const r = markBenign(store, a.id, { now: ALERT_T });
    await expect(r).rejects.toThrow(AuthwatchError);
    await expect(markBenign(store, a.id, { now: ALERT_T })).rejects.toThrow(/about a source.*allow cidr/);
  });
});

describe('an alert about a period of the organisation’s logons (a spike: no user, no users listed)', () => {
  it('says it is about the organisation and its busiest address, never an empty user name', () => {
    const a: Alert = { ...makeAlert({ detector: 'ip', user: '', ip: '198.51.100.200' }), id: 'logonspike-1' };
    expect(emailSubject(a)).toMatch(/: the organisation's logons, busiest address 198\.51\.100\.200$/);
    const text = emailText(a);
    expect(text.split('\n')[0]).toContain("the organisation's logons, busiest address 198.51.100.200");
    expect(text).toMatch(/User: +the organisation's logons/);
    const chat = JSON.stringify(chatbotNotification(a));
    expect(chat).toContain("the organisation's logons");
    expect(chat).not.toContain('*User:* \\n');
    expect(alertTable([a])).toContain('(all users)');
  });
});

describe('a per-user alert with the other alerts on its logon folded into it', () => {
  it('names them as alerts on this logon, not as a campaign', () => {
    const a: Alert = { ...makeAlert({ detector: 'ip', user: 'alice' }), campaign: { folded: ['unusualhour-1'] } };
    expect(emailText(a)).toContain(
      'Other alerts on this logon, folded into this one (not sent on their own): unusualhour-1.',
    );
    expect(emailText(a)).not.toContain('folded into this campaign');
  });
});
