/**
 * Alerts rendered for people: plain-text email, AWS Chatbot (Amazon Q Developer in chat applications)
 * custom notifications, and the per-run digest in both forms. Pure: no SDK, no clock, no env.
 *
 * Every value a user or a log line controls (user names, host names, IPs-as-strings, explanation sentences
 * built from them), and the network owners' organisation names from the publisher's file, is untrusted here: a user name can hold newlines that forge extra lines in an email,
 * markdown that turns into links in Slack, `<!channel>` that pings everyone, right-to-left overrides that
 * reorder what an analyst reads, or 10 KB of padding. The helpers of untrusted-text.ts make such a value
 * single-line, printable, bounded and inert in the target format. The alert's JSON (for machines) keeps the exact values.
 */
import { createHash } from 'node:crypto';
import { alertOwner, loggedAsOf } from './alerts';
import { DETECTORS } from './detectors';
import type { EvidenceField } from './detectors/detector';
import { ownerText } from './enrich';
import type { Alert, AlertBatch, EvidenceValue } from './model';
import {
  ELLIPSIS,
  VALUE_MAX_CHARS,
  asciiText,
  clampEscaped,
  escapeMarkdown,
  plainText,
  renderMixed,
} from './untrusted-text';

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

/**
 * SNS `Subject` (email subscribers): "ASCII text that begins with a letter, number, or punctuation mark;
 * must not include line breaks or control characters; and must be less than 100 characters long"
 * (SNS Publish API reference). SNS rewrites subjects with control or non-ASCII characters, so we never send any.
 */
export const SUBJECT_MAX_CHARS = 99;
/** An IPv6 address is at most 45 characters; anything longer in a source-IP field is not an address. */
export const IP_MAX_CHARS = 64;
/** A network owner's organisation name beside an address (real ones are under 40 characters; the rest is cut). */
export const ORG_MAX_CHARS = 64;
/** Bound for an explanation sentence (trusted template + untrusted values), per format. */
export const EXPLANATION_MAX_CHARS = 1_500;
/**
 * Chatbot custom notifications: `title` and `description` are rendered as chat markdown. The documented
 * schema gives no byte limits we could rely on, and Slack rejects a text block over 3,000 characters, so
 * we stay under those: a title of at most 250 characters, a description of at most 3,000, at most
 * 8 next steps of at most 500 characters each, at most 5 keywords.
 */
export const CHATBOT_TITLE_MAX_CHARS = 250;
export const CHATBOT_DESCRIPTION_MAX_CHARS = 3_000;
export const CHATBOT_NEXT_STEPS_MAX = 8;
export const CHATBOT_NEXT_STEP_MAX_CHARS = 500;
export const CHATBOT_KEYWORDS_MAX = 5;
/** Lines of the digest: the cap is 100 alerts per run; the cut list is summarised, not listed in full. */
export const DIGEST_CUT_LISTED = 10;

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

/** The untrusted strings an alert carries into its human text. */
function untrustedValues(a: Alert): string[] {
  const v = [a.user.name, a.source.ip, ...a.host.names, ...a.context.other_ips_in_window];
  const loggedAs = loggedAsOf(a);
  if (loggedAs !== undefined) v.push(loggedAs);
  for (const u of a.campaign?.users ?? []) v.push(u.name);
  if (a.campaign?.source !== undefined) v.push(a.campaign.source);
  if (a.host.name !== undefined) v.push(a.host.name);
  const org = alertOwner(a)?.org;
  if (org) v.push(org);
  for (const e of Object.values(a.evidence)) {
    if (typeof e === 'string') v.push(e);
    else if (Array.isArray(e)) v.push(...(e as readonly string[]));
  }
  return v;
}

/**
 * The source address with its owner and country when the alert names them, `8.8.8.8 (AS15169 GOOGLE, US)`, each
 * untrusted part made safe by `render` (the organisation name and the country are cut on their own, so a long name
 * never pushes the AS number or the country out).
 */
export function sourceText(a: Alert, render: (s: string, max: number) => string): string {
  const ip = render(a.source.ip, IP_MAX_CHARS);
  const owner = alertOwner(a);
  if (!owner) return ip;
  const safe = ownerText({
    asn: owner.asn,
    org: owner.org ? render(owner.org, ORG_MAX_CHARS) : '',
    ...(owner.country !== undefined ? { country: render(owner.country, 8) } : {}),
  });
  return `${ip} (${safe})`;
}

/** Users an alert about a source lists by name in a message (the alert JSON has up to the detector's bound). */
export const CAMPAIGN_USERS_LISTED = 20;

/**
 * For an alert about a source (a campaign: no user name, its users listed): how many users it named in all and
 * how many of them it logged on as. Undefined for an alert about one user.
 */
export function campaignCounts(a: Alert): { users: number; loggedOn: number } | undefined {
  const users = a.campaign?.users;
  if (a.user.name !== '' || users === undefined) return undefined;
  return {
    users: Math.max(users.length, a.campaign?.total ?? 0),
    loggedOn: users.filter((u) => u.successes > 0).length,
  };
}

/** `80 users, 2 logged on`. */
export function campaignCountsText(c: { users: number; loggedOn: number }): string {
  return `${c.users} user${c.users === 1 ? '' : 's'}, ${c.loggedOn} logged on`;
}

/**
 * The users of an alert about a source, one line each (at most `max`, then how many more): the name made safe
 * by `render`, what the source did with the account, and whether it is a real user here.
 */
export function campaignUserLines(
  a: Alert,
  render: (s: string, max: number) => string,
  max = CAMPAIGN_USERS_LISTED,
): string[] {
  const users = a.campaign?.users ?? [];
  const lines = users.slice(0, max).map((u) => {
    const what = [
      ...(u.failures > 0 ? [`${u.failures} failed`] : []),
      ...(u.successes > 0 ? [`${u.successes} logged on`] : []),
    ].join(', ');
    return `${render(u.name, 64)}: ${what || 'no logons'}${u.known ? '' : ' (not a user here)'}`;
  });
  const total = Math.max(users.length, a.campaign?.total ?? 0);
  if (total > lines.length) lines.push(`and ${total - lines.length} more (the alert JSON lists ${users.length})`);
  return lines;
}

/** The campaign ids an alert names: the campaign it is part of, or the alerts linked to it and folded into it. */
export function campaignLinkLines(a: Alert, render: (s: string, max: number) => string): string[] {
  const c = a.campaign;
  if (!c) return [];
  const ids = (l: readonly string[]) =>
    l
      .slice(0, 20)
      .map((id) => render(id, 80))
      .join(', ') + (l.length > 20 ? ` and ${l.length - 20} more` : '');
  return [
    ...(c.of !== undefined ? [`Part of campaign ${render(c.of, 80)}.`] : []),
    ...(c.linked && c.linked.length > 0
      ? [`Alerts linked to this campaign (sent on their own): ${ids(c.linked)}.`]
      : []),
    ...(c.folded && c.folded.length > 0
      ? [
          c.users !== undefined
            ? `Alerts folded into this campaign (not sent on their own): ${ids(c.folded)}.`
            : `Other alerts on this logon, folded into this one (not sent on their own): ${ids(c.folded)}.`,
        ]
      : []),
  ];
}

function ruleShort(a: Alert): string {
  // An alert of a detector no longer registered (read back from the ledger) still has its rule's name.
  const label = DETECTORS.find((d) => d.id === a.rule.id)?.shortLabel ?? a.rule.name;
  // A follow-up says so wherever the rule is named (subject, card, digest line): it is not a new finding.
  return a.follow_up_of !== undefined ? `${label} follow-up` : label;
}

function score(a: Alert): string {
  return a.score.toFixed(0);
}

function evidenceText(v: EvidenceValue): string {
  if (Array.isArray(v)) return (v as readonly string[]).join(', ');
  return String(v);
}

/** A 0–1 share as a percentage: whole percents, one decimal under 10%, `<0.1%` for the tiniest. */
function percentText(x: number): string {
  if (x === 0) return '0%';
  if (x < 0.001) return '<0.1%';
  return `${Number((x * 100).toFixed(x < 0.1 ? 1 : 0))}%`;
}

/** One evidence value as its field's format says; a value of another type than the format expects is shown as it is. */
export function formatEvidence(v: EvidenceValue, format: EvidenceField['format']): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return evidenceText(v);
  switch (format) {
    case 'count':
      return Math.round(v).toLocaleString('en-US');
    case 'number':
      return Number(v.toPrecision(2)).toLocaleString('en-US', { maximumSignificantDigits: 2 });
    case 'percent':
      return percentText(v);
    case 'probability':
      return v === 0 ? '0' : v.toPrecision(2);
    case 'days':
      return `${Number(v.toFixed(1))} day${v === 1 ? '' : 's'}`;
    default:
      return String(v);
  }
}

/**
 * The alert's evidence as a person reads it: the labelled, formatted fields its detector lists (in the
 * detector's order), the values left raw for `render` to make safe. A rule no registered detector has (an alert
 * from a newer version) shows its raw keys rather than nothing.
 */
export function evidenceRows(a: Alert): { label: string; value: string; untrusted: boolean }[] {
  const fields = DETECTORS.find((d) => d.id === a.rule.id)?.evidenceFields;
  if (!fields)
    return Object.entries(a.evidence).map(([k, v]) => ({ label: k, value: evidenceText(v), untrusted: true }));
  const rows: { label: string; value: string; untrusted: boolean }[] = [];
  for (const [key, field] of Object.entries(fields)) {
    const v = a.evidence[key];
    if (v === undefined) continue;
    rows.push({ label: field.label, value: formatEvidence(v, field.format), untrusted: field.format === 'text' });
  }
  return rows;
}

const MAX_HOSTS_SHOWN = 10;

function hostsList(a: Alert, render: (s: string) => string): string {
  if (a.host.names.length === 0) return 'not reported by the log format';
  const shown = a.host.names.slice(0, MAX_HOSTS_SHOWN).map(render).join(', ');
  return a.host.names.length > MAX_HOSTS_SHOWN ? `${shown} and ${a.host.names.length - MAX_HOSTS_SHOWN} more` : shown;
}

// ---------------------------------------------------------------------------------------------
// Email
// ---------------------------------------------------------------------------------------------

/** SNS `Subject` for one alert: printable ASCII, no line breaks, < 100 characters. */
export function emailSubject(a: Alert): string {
  const c = campaignCounts(a);
  if (c) {
    // About a source: the source and the count; the organisation name is shortened (then dropped) to fit.
    const head = `authwatch: ${ruleShort(a)} (score ${score(a)}) from `;
    const tail = `: ${campaignCountsText(c)}`;
    const room = SUBJECT_MAX_CHARS - head.length - tail.length;
    const ip = asciiText(a.source.ip, 45);
    const owner = alertOwner(a);
    let source = ip;
    if (owner)
      for (const org of [ORG_MAX_CHARS, 24, 12, 0]) {
        const name = org > 0 && owner.org ? ` ${asciiText(owner.org, org)}` : '';
        const country = owner.country ? `, ${asciiText(owner.country, 8)}` : '';
        const s = `${ip} (AS${owner.asn}${name}${country})`;
        if (s.length <= room) {
          source = s;
          break;
        }
      }
    return asciiText(`${head}${source}${tail}`, SUBJECT_MAX_CHARS);
  }
  const prefix = `authwatch: ${ruleShort(a)} (score ${score(a)}): `;
  const ip = asciiText(a.source.ip, 45);
  if (isPeriodAlert(a)) return asciiText(`${prefix}${ORGANISATION}, busiest address ${ip}`, SUBJECT_MAX_CHARS);
  const room = SUBJECT_MAX_CHARS - prefix.length - ` from ${ip}`.length;
  const user = asciiText(a.user.name, Math.max(8, room));
  return asciiText(`${prefix}${user} from ${ip}`, SUBJECT_MAX_CHARS);
}

/**
 * What a person needs to act on one alert, as plain-text lines: what happened, the numbers (labelled and
 * rounded), what to check, when it is often benign and how to silence it. The per-alert email and each entry of
 * the digest are built from these same lines, so both say the same thing.
 */
function alertBodyLines(a: Alert): string[] {
  const u = untrustedValues(a);
  const p = (s: string, max = VALUE_MAX_CHARS) => plainText(s, max);
  const lines: string[] = [];
  const c = campaignCounts(a);
  lines.push('WHAT HAPPENED');
  lines.push(renderMixed(a.explanation, u, { format: 'plain', max: EXPLANATION_MAX_CHARS }));
  lines.push(...campaignLinkLines(a, p));
  lines.push('');
  lines.push('THE NUMBERS');
  const row = (k: string, v: string) => lines.push(`  ${`${k}:`.padEnd(42)} ${v}`);
  if (c) row('Users', campaignCountsText(c));
  else row('User', isPeriodAlert(a) ? ORGANISATION : userText(a, p));
  row('Source IP', sourceText(a, p));
  if (c && a.campaign?.source !== undefined && a.campaign.source !== a.source.ip)
    row('Source', p(a.campaign.source, IP_MAX_CHARS));
  row(
    'Hosts',
    hostsList(a, (h) => p(h)),
  );
  row(c ? 'Logons' : 'Successful logons', String(a.event.count));
  row('First logon', a['@timestamp']);
  row('Window', `${a.window.start} to ${a.window.end}`);
  row('Failed logons from the IP', String(a.context.failed_attempts_from_ip));
  if (a.context.other_ips_in_window.length > 0)
    row(
      'Other IPs of the user',
      a.context.other_ips_in_window
        .slice(0, 10)
        .map((ip) => p(ip, IP_MAX_CHARS))
        .join(', '),
    );
  if (a.context.methods.length > 0) row('Methods', a.context.methods.map((m) => p(m, 40)).join(', '));
  row('Score', `${score(a)}/100 (alerts at ${a.rule.threshold})`);
  row('Probability', a.probability.toPrecision(2));
  row('Log source', p(a.log_source, 64));
  for (const r of evidenceRows(a)) row(p(r.label, 60), r.untrusted ? p(r.value, 256) : r.value);
  if (c) {
    lines.push('');
    lines.push('THE USERS (real users and those it logged on as first)');
    for (const l of campaignUserLines(a, p)) lines.push(`  - ${l}`);
  }
  lines.push('');
  lines.push('WHAT TO CHECK');
  a.investigation.forEach((s, i) => {
    lines.push(`  ${i + 1}. ${p(s, 1_000)}`);
  });
  lines.push('');
  lines.push('OFTEN BENIGN WHEN');
  for (const s of a.false_positives) lines.push(`  - ${p(s, 1_000)}`);
  lines.push('');
  lines.push('TO SILENCE IT IF BENIGN');
  for (const s of a.silence) lines.push(`  - ${renderMixed(s, u, { format: 'plain', max: 1_000 })}`);
  return lines;
}

const SHORTENED_NOTE =
  'User names and hosts above are shown single-line and shortened; the exact values are in the alert JSON.';

/** The plain-text email body for one alert. */
export function emailText(a: Alert): string {
  const p = (s: string, max = VALUE_MAX_CHARS) => plainText(s, max);
  const lines: string[] = [];
  const c = campaignCounts(a);
  lines.push(
    c
      ? `${a.rule.name}: ${sourceText(a, p)}: ${campaignCountsText(c)}`
      : isPeriodAlert(a)
        ? `${a.rule.name}: ${ORGANISATION}, busiest address ${sourceText(a, p)}`
        : `${a.rule.name}: ${userText(a, p)} from ${sourceText(a, p)}`,
  );
  lines.push(`Score ${score(a)}/100 (alerts at ${a.rule.threshold}), severity ${a.rule.severity}, rule ${a.rule.id}.`);
  lines.push('');
  lines.push(...alertBodyLines(a));
  lines.push('');
  lines.push(`Alert id: ${p(a.id, 80)}`);
  const mitre = a.rule.threat.technique.map((t) => `${t.id} ${t.name}`).join(', ');
  lines.push(`MITRE ATT&CK: ${a.rule.threat.tactic.id} ${a.rule.threat.tactic.name} / ${mitre}`);
  for (const r of a.rule.references) lines.push(`Reference: ${p(r, 300)}`);
  lines.push('');
  lines.push(SHORTENED_NOTE);
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// AWS Chatbot custom notifications
// ---------------------------------------------------------------------------------------------

/**
 * The AWS Chatbot (Amazon Q Developer in chat applications) custom-notification schema:
 * https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html
 * `version` must be "1.0", `source` must be "custom"; only `client-markdown` text is supported.
 */
export interface ChatbotNotification {
  readonly version: '1.0';
  readonly source: 'custom';
  readonly id?: string;
  readonly content: {
    readonly textType: 'client-markdown';
    readonly title: string;
    readonly description: string;
    readonly nextSteps: readonly string[];
    readonly keywords?: readonly string[];
  };
  readonly metadata: {
    readonly threadId?: string;
    readonly summary?: string;
    readonly eventType?: string;
    readonly relatedResources?: readonly string[];
    readonly additionalContext?: Readonly<Record<string, string>>;
  };
}

/** Chat threads group one user's alerts; the thread id is a hash so no user-controlled text is in it. */
function userThreadId(user: string): string {
  return `authwatch-user-${createHash('sha256').update(user).digest('hex').slice(0, 20)}`;
}

/** An alert about a source threads with the source's other alerts. */
function threadId(a: Alert): string {
  if (!campaignCounts(a)) return userThreadId(a.user.name);
  const source = a.campaign?.source ?? a.source.ip;
  return `authwatch-source-${createHash('sha256').update(source).digest('hex').slice(0, 20)}`;
}

function clampLines(lines: readonly string[], max: number): string {
  const out: string[] = [];
  let len = 0;
  for (const l of lines) {
    const add = (out.length > 0 ? 1 : 0) + l.length;
    if (len + add > max - 2) {
      out.push(ELLIPSIS);
      break;
    }
    out.push(l);
    len += add;
  }
  return out.join('\n');
}

function nextSteps(steps: readonly string[]): string[] {
  return steps.slice(0, CHATBOT_NEXT_STEPS_MAX).map((s) => clampEscaped(s, CHATBOT_NEXT_STEP_MAX_CHARS));
}

/** One alert as a Chatbot custom notification (what the SNS `https` subscription of Chatbot receives). */
export function chatbotNotification(a: Alert): ChatbotNotification {
  const u = untrustedValues(a);
  const md = (s: string, max = VALUE_MAX_CHARS) => escapeMarkdown(s, max);
  const c = campaignCounts(a);
  const userMd = c ? campaignCountsText(c) : isPeriodAlert(a) ? ORGANISATION : md(a.user.name, 64);
  const ipMd = md(a.source.ip, IP_MAX_CHARS);
  const sourceMd = sourceText(a, md);
  const title = clampEscaped(
    c
      ? `:rotating_light: ${escapeMarkdown(a.rule.name, 80, { parens: false })} from ${sourceMd}: ${userMd} (score ${score(a)})`
      : `:rotating_light: ${escapeMarkdown(a.rule.name, 80, { parens: false })}: ${userMd} from ${sourceMd} (score ${score(a)})`,
    CHATBOT_TITLE_MAX_CHARS,
  );
  const description = clampLines(
    [
      renderMixed(a.explanation, u, { format: 'markdown', max: EXPLANATION_MAX_CHARS }),
      ...campaignLinkLines(a, md).map((l) => `_${l}_`),
      '',
      c
        ? `*Users:* ${campaignUserLines(a, md, 15).join('; ')}`
        : `*User:* ${isPeriodAlert(a) ? ORGANISATION : userText(a, md)}`,
      `*Source IP:* ${sourceMd}`,
      `*Hosts:* ${hostsList(a, (h) => md(h))}`,
      c
        ? `*Logons:* ${a.event.count}, first at ${a['@timestamp']}`
        : `*Logons:* ${a.event.count} successful, first at ${a['@timestamp']}; ${a.context.failed_attempts_from_ip} failed from the same IP`,
      ...(a.context.other_ips_in_window.length > 0
        ? [
            `*Other IPs of the user in the window:* ${a.context.other_ips_in_window
              .slice(0, 10)
              .map((ip) => md(ip, IP_MAX_CHARS))
              .join(', ')}`,
          ]
        : []),
      `*Score:* ${score(a)}/100 (threshold ${a.rule.threshold}), probability ${a.probability.toPrecision(2)}, severity ${a.rule.severity}`,
      `*Window:* ${a.window.start} to ${a.window.end}`,
      `*Rule:* ${md(a.rule.id, 64)}   *Alert id:* ${md(a.id, 80)}`,
      '',
      `*Often benign when:* ${a.false_positives.map((s) => escapeMarkdown(s, 300, { parens: false })).join(' / ')}`,
      `*To silence if benign:* ${a.silence.map((s) => renderMixed(s, u, { format: 'markdown', max: 400 })).join(' / ')}`,
    ],
    CHATBOT_DESCRIPTION_MAX_CHARS,
  );
  return {
    version: '1.0',
    source: 'custom',
    id: a.id,
    content: {
      textType: 'client-markdown',
      title,
      description,
      nextSteps: nextSteps(
        a.investigation.map((s) => escapeMarkdown(s, CHATBOT_NEXT_STEP_MAX_CHARS, { parens: false })),
      ),
      keywords: [a.rule.id, `severity:${a.rule.severity}`, `score:${score(a)}`, a.log_source]
        .slice(0, CHATBOT_KEYWORDS_MAX)
        .map((k) => md(k, 40)),
    },
    metadata: {
      threadId: threadId(a),
      summary: clampEscaped(
        c
          ? `${escapeMarkdown(ruleShort(a), 40, { parens: false })} from ${ipMd}: ${userMd}`
          : `${escapeMarkdown(ruleShort(a), 40, { parens: false })}: ${userMd} from ${ipMd}`,
        200,
      ),
      eventType: 'authwatch.alert',
      additionalContext: {
        alertId: a.id,
        rule: a.rule.id,
        score: score(a),
        severity: a.rule.severity,
        window: `${a.window.start}/${a.window.end}`,
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Digest: the email of a run, every alert in it explained in full
// ---------------------------------------------------------------------------------------------

export interface DigestOptions {
  /** Alert ids whose own message could not be delivered (the run fails and its retry delivers them). */
  readonly failed?: readonly string[];
  /**
   * Most UTF-8 bytes one digest text may have (SNS takes 256 KiB per message, the subject and the other protocols'
   * copies included). A run whose alerts do not fit is sent as several parts, each alert whole in one of them.
   */
  readonly maxBytes?: number;
}

/** Default bound of one digest text: 200 KB leaves room in SNS's 256 KiB for the subject, attributes and the JSON copy. */
export const DIGEST_TEXT_MAX_BYTES = 200_000;

function digestCounts(b: AlertBatch): string {
  const n = b.alerts.length;
  const cut = b.cut.length;
  return `${n} alert${n === 1 ? '' : 's'}${cut > 0 ? `, ${cut} more cut by the per-run cap` : ''}`;
}

function windowText(b: AlertBatch): string {
  return `${new Date(b.window.start).toISOString()} to ${new Date(b.window.end).toISOString()}`;
}

/** SNS `Subject` of the digest (of one part of it, when it had to be split). */
export function digestSubject(b: AlertBatch, part?: { readonly index: number; readonly of: number }): string {
  const of = part && part.of > 1 ? ` ${part.index + 1}/${part.of}` : '';
  return asciiText(
    `authwatch digest${of}: ${digestCounts(b)} (window ending ${new Date(b.window.end).toISOString().slice(0, 16)}Z)`,
    SUBJECT_MAX_CHARS,
  );
}

/** `alice from 203.0.113.9 (…)`, or for an alert about a source `203.0.113.9 (…): 80 users, 2 logged on`. */
function who(a: Alert, render: (s: string, max?: number) => string): string {
  const c = campaignCounts(a);
  if (c) return `${sourceText(a, render)}: ${campaignCountsText(c)}`;
  if (isPeriodAlert(a)) return `${ORGANISATION}, busiest address ${sourceText(a, render)}`;
  return `${userText(a, render, 64)} from ${sourceText(a, render)}`;
}

/**
 * The alert's user, and the name its logons were logged under when identity rules joined the two:
 * `alice@corp.example (logged on as a.smith@corp)`.
 */
function userText(a: Alert, render: (s: string, max?: number) => string, max?: number): string {
  const loggedAs = loggedAsOf(a);
  const name = max === undefined ? render(a.user.name) : render(a.user.name, max);
  if (loggedAs === undefined) return name;
  return `${name} (logged on as ${max === undefined ? render(loggedAs) : render(loggedAs, max)})`;
}

/** Who an alert about a period of the organisation's logons (a spike: no user, no users listed) is about. */
const ORGANISATION = "the organisation's logons";

/** An alert about a period of the organisation's logons (a spike), not one user's nor a source's many users'. */
function isPeriodAlert(a: Alert): boolean {
  return a.user.name === '' && campaignCounts(a) === undefined;
}

function digestLine(
  a: Alert,
  i: number,
  render: (s: string, max?: number) => string,
  failed: ReadonlySet<string>,
): string {
  const host = a.host.name !== undefined ? `${campaignCounts(a) ? ',' : ''} on ${render(a.host.name, 64)}` : '';
  const note = failed.has(a.id) ? ' [delivery failed; the retry will send it]' : '';
  return `${String(i + 1).padStart(3)}. score ${score(a)}, ${ruleShort(a)}: ${who(a, render)}${host} at ${a['@timestamp']} (${a.id})${note}`;
}

/** One alert's whole entry in the digest: its summary line, then everything its own email would say. */
function digestEntry(a: Alert, i: number, failed: ReadonlySet<string>): string[] {
  const p = (s: string, max = VALUE_MAX_CHARS) => plainText(s, max);
  const rule = `${a.rule.name} (${a.rule.id}), severity ${a.rule.severity}`;
  return [
    '='.repeat(78),
    digestLine(a, i, p, failed),
    `     ${rule}`,
    '',
    ...alertBodyLines(a).map((l) => (l === '' ? '' : `     ${l}`)),
    '',
  ];
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * The digest as plain text (email), in as many parts as its size needs (usually one): a header with the run,
 * the window and the counts; each alert in rank order with its explanation, numbers, what to check, when it is
 * often benign and how to silence it; what the cap cut (summarised, not sent one by one). Under the default
 * `digest` email mode this is the only email a run sends, so nothing here refers to other messages.
 */
export function digestTexts(b: AlertBatch, opts: DigestOptions = {}): string[] {
  const failed = new Set(opts.failed ?? []);
  const maxBytes = opts.maxBytes ?? DIGEST_TEXT_MAX_BYTES;
  const p = (s: string, max = VALUE_MAX_CHARS) => plainText(s, max);
  const header = (part: string) => [
    `authwatch run ${p(b.runId, 80)}: ${digestCounts(b)}${part}`,
    `Window: ${windowText(b)}`,
    '',
  ];

  const tail: string[] = [];
  if (b.cut.length > 0) {
    tail.push('');
    tail.push(
      `CUT BY THE CAP: ${b.cut.length} more finding${b.cut.length === 1 ? '' : 's'} above threshold were not sent (the cap kept ${b.alerts.length}). ` +
        'They are not recorded as raised; review the run summary or raise the cap (maxAlertsPerRun) if this recurs.',
    );
    for (const [i, a] of b.cut.slice(0, DIGEST_CUT_LISTED).entries())
      tail.push(digestLine(a, b.alerts.length + i, p, failed));
    if (b.cut.length > DIGEST_CUT_LISTED) tail.push(`     ... and ${b.cut.length - DIGEST_CUT_LISTED} more`);
  }
  if (failed.size > 0) {
    tail.push('');
    tail.push(`${failed.size} alert(s) could not be delivered; the run fails so that its retry delivers them.`);
  }
  const footer = ['', SHORTENED_NOTE];

  // Pack whole entries into parts; the header of a part names it ("part 2 of 3") once the count is known.
  const reserve = utf8Length([...header(', part 100 of 100'), ...tail, ...footer].join('\n')) + 64;
  const room = Math.max(1, maxBytes - reserve);
  const parts: string[][] = [];
  let cur: string[] = [];
  let bytes = 0;
  b.alerts.forEach((a, i) => {
    // An entry is bounded (every untrusted value is cut), so one always fits in 200 KB; a smaller bound is the caller's choice.
    const entry = digestEntry(a, i, failed);
    const n = utf8Length(entry.join('\n')) + 1;
    if (cur.length > 0 && bytes + n > room) {
      parts.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(...entry);
    bytes += n;
  });
  parts.push(cur);
  return parts.map((body, i) => {
    const head = header(parts.length > 1 ? `, part ${i + 1} of ${parts.length}` : '');
    const lines = [
      ...head,
      ...(b.alerts.length > 0 && i === 0
        ? [
            b.alerts.some((a) => campaignCounts(a))
              ? 'ALERTS (campaigns first: one source against many users; then highest score first)'
              : 'ALERTS (highest score first)',
            '',
          ]
        : []),
      ...body,
      ...(i === parts.length - 1 ? tail : []),
      ...footer,
    ];
    return lines.join('\n') + '\n';
  });
}

/** The whole digest as one text (tests and the CLI; the sink sends `digestTexts`, split to fit SNS). */
export function digestText(b: AlertBatch, opts: Omit<DigestOptions, 'maxBytes'> = {}): string {
  return digestTexts(b, { ...opts, maxBytes: Number.MAX_SAFE_INTEGER })[0]!;
}

/**
 * The Chatbot card for what the per-run cap cut: those findings get no card of their own, and chat must still
 * see that a mass event happened. Undefined when nothing was cut: the alerts themselves each have their card,
 * and a card repeating them would make every alert appear twice in the channel.
 */
export function cutNotification(b: AlertBatch): ChatbotNotification | undefined {
  if (b.cut.length === 0) return undefined;
  const md = (s: string, max = VALUE_MAX_CHARS) => escapeMarkdown(s, max);
  const lines: string[] = [
    `*Window:* ${windowText(b)}`,
    `The cap (maxAlertsPerRun) kept the ${b.alerts.length} highest-scored alert${b.alerts.length === 1 ? '' : 's'}, each posted as its own card. ` +
      `These ${b.cut.length} were not sent and are not recorded as raised:`,
    '',
  ];
  for (const [i, a] of b.cut.slice(0, DIGEST_CUT_LISTED).entries()) {
    lines.push(`${i + 1}. score ${score(a)}, ${escapeMarkdown(ruleShort(a), 40, { parens: false })}: ${who(a, md)}`);
  }
  if (b.cut.length > DIGEST_CUT_LISTED) lines.push(`… and ${b.cut.length - DIGEST_CUT_LISTED} more`);
  const top = b.cut[0]!;
  return {
    version: '1.0',
    source: 'custom',
    id: `cut-${createHash('sha256').update(b.runId).digest('hex').slice(0, 24)}`,
    content: {
      textType: 'client-markdown',
      title: clampEscaped(
        `:warning: authwatch: ${b.cut.length} more finding${b.cut.length === 1 ? '' : 's'} cut by the per-run cap (top score ${score(top)})`,
        CHATBOT_TITLE_MAX_CHARS,
      ),
      description: clampLines(lines, CHATBOT_DESCRIPTION_MAX_CHARS),
      nextSteps: nextSteps([
        'Check for a campaign (one address, many users) or a change that needs an allowlist (a new VPN egress, an identity-provider change).',
        'If runs often hit the cap, raise maxAlertsPerRun.',
      ]),
      keywords: ['authwatch', 'cap'],
    },
    metadata: {
      summary: clampEscaped(`authwatch: ${b.cut.length} more cut by the per-run cap`, 200),
      eventType: 'authwatch.cut',
      additionalContext: {
        runId: plainText(b.runId, 80),
        alerts: String(b.alerts.length),
        cut: String(b.cut.length),
        window: `${new Date(b.window.start).toISOString()}/${new Date(b.window.end).toISOString()}`,
      },
    },
  };
}
