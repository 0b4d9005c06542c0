// GraphQL-over-HTTP conformance: run graphql-http's server audits against a teamclaims /query.
//
//   TEAMCLAIMS_API_TOKEN=... node audit.mjs http://127.0.0.1:8000/query [--markdown]
//
// Every request the audits make carries `Authorization: Bearer $TEAMCLAIMS_API_TOKEN` (added by a
// wrapping fetchFn; the token is read from the environment so that it stays out of `ps`).
// Prints one JSON line per audit, in graphql-http's order:
//   {"id", "name", "status", "reason", "response"}
// status is graphql-http's: "ok", "error" (a failed MUST), "warn" (a failed SHOULD) or "notice"
// (a failed MAY). reason is null when the audit passed; response is the HTTP response the audit
// judged ({status, contentType, body}), given for failures only.
// With --markdown it prints a Markdown table instead, MUST then SHOULD then MAY.
// Exit status: 0 when every audit ran and no MUST failed, 1 when a MUST failed, 2 on a usage or
// fatal error (the server could not be reached, say).
import { serverAudits } from 'graphql-http';

const BODY_LIMIT = 500;

function usage(message) {
  process.stderr.write(`${message}\nusage: TEAMCLAIMS_API_TOKEN=TOKEN node audit.mjs URL [--markdown]\n`);
  process.exit(2);
}

const markdown = process.argv.includes('--markdown');
const args = process.argv.slice(2).filter((a) => a !== '--markdown');
const url = args[0];
if (!url || args.length > 1) usage('give the URL of the GraphQL endpoint');
try {
  new URL(url);
} catch {
  usage(`not a URL: ${url}`);
}
const token = process.env.TEAMCLAIMS_API_TOKEN;
if (!token) usage('set TEAMCLAIMS_API_TOKEN to an API token');

// The text of every response, read from a clone so that the audit can still consume the body.
const seen = new WeakMap();

async function fetchFn(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  const res = await fetch(input, { ...init, headers });
  seen.set(res, res.clone().text().catch((err) => `<body unreadable: ${err}>`));
  return res;
}

async function describe(res) {
  if (!res) return null;
  let body;
  if (seen.has(res)) body = await seen.get(res);
  else if (!res.bodyUsed) body = await res.text().catch((err) => `<body unreadable: ${err}>`);
  else body = '<body already read>';
  if (body.length > BODY_LIMIT) body = `${body.slice(0, BODY_LIMIT)}…`;
  return { status: res.status, contentType: res.headers.get('content-type'), body };
}

const LEVELS = ['MUST', 'SHOULD', 'MAY'];
const MARK = { ok: 'ok', error: 'ERROR', warn: 'warn', notice: 'notice' };

function cell(text) {
  return String(text ?? '').replace(/[|*_`]/g, '\\$&').replace(/\s+/g, ' ');
}

function table(lines) {
  const rows = ['| Level | ID | Result | Audit | Why (the response the audit saw) |',
    '|---|---|---|---|---|'];
  for (const level of LEVELS) {
    for (const l of lines.filter((x) => x.name.split(' ')[0] === level)) {
      const why = l.reason
        ? `${l.reason}${l.response ? `: got ${l.response.status} ${l.response.contentType}` : ''}`
        : '';
      rows.push(`| ${level} | ${l.id} | ${MARK[l.status] ?? l.status} | ${cell(l.name)} | ${cell(why)} |`);
    }
  }
  const summary = LEVELS.map((level) => {
    const of = lines.filter((x) => x.name.split(' ')[0] === level);
    return `${level} ${of.filter((x) => x.status === 'ok').length}/${of.length} ok`;
  });
  return `${rows.join('\n')}\n\n${summary.join(', ')}\n`;
}

const lines = [];
for (const audit of serverAudits({ url, fetchFn })) {
  let result;
  try {
    result = await audit.fn();
  } catch (err) {
    // graphql-http throws only on fatal errors: the request itself failed.
    process.stderr.write(`audit ${audit.id} (${audit.name}) could not run: ${err?.stack || err}`
      + `${err?.cause ? `\ncaused by: ${err.cause}` : ''}\n`);
    process.exit(2);
  }
  const line = { id: result.id, name: result.name, status: result.status, reason: null };
  if (result.status !== 'ok') {
    line.reason = result.reason;
    line.response = await describe(result.response);
  }
  lines.push(line);
  if (!markdown) process.stdout.write(`${JSON.stringify(line)}\n`);
}
if (markdown) process.stdout.write(table(lines));
process.exit(lines.some((l) => l.status === 'error') ? 1 : 0);
