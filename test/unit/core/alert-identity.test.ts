/**
 * An alert on a logon the identity rules joined to another name says both: `user.name` is the identity (whose
 * baseline judged it), ECS `related.user` lists the identity and the name as logged, and every human text reads
 * "alice@corp.example (logged on as a.smith@corp)".
 */
import { describe, expect, it } from 'vitest';
import { alertDocument, loggedAsOf } from '../../../shared/core/alerts';
import { chatbotNotification, digestText, emailText } from '../../../shared/core/alert-text';
import { ALERT_WINDOW, makeAlert } from '../../support/alerts';

describe('alerts on a joined identity', () => {
  const a = makeAlert({ user: 'alice@corp.example', loggedAs: 'a.smith@corp' });

  it('user.name is the identity; related.user holds it and the name as logged', () => {
    expect(a.user).toEqual({ name: 'alice@corp.example' });
    expect(a.related).toEqual({ user: ['alice@corp.example', 'a.smith@corp'] });
    expect(loggedAsOf(a)).toBe('a.smith@corp');
    expect(JSON.parse(alertDocument(a))).toMatchObject({ related: { user: ['alice@corp.example', 'a.smith@corp'] } });
  });

  it('the email, the digest and the chat card name both', () => {
    const both = 'alice@corp.example (logged on as a.smith@corp)';
    expect(emailText(a)).toContain(both);
    expect(digestText({ runId: 'r', window: ALERT_WINDOW, alerts: [a], cut: [] })).toContain(both);
    expect(chatbotNotification(a).content.description).toContain(`*User:* ${both}`);
  });

  it('an alert on a name logged as itself has no related users and reads as before', () => {
    const plain = makeAlert({ user: 'alice' });
    expect(plain).not.toHaveProperty('related');
    expect(loggedAsOf(plain)).toBeUndefined();
    expect(emailText(plain)).not.toContain('logged on as');
  });
});
