// GraphiQL in a real browser: can a person run a query against teamclaims from the page at /query?
//
//   TEAMCLAIMS_API_TOKEN=... node graphiql.mjs http://127.0.0.1:8000/query ORG_MRN SCREENSHOT.png
//
// Opens the URL in headless Chromium (Debian's /usr/bin/chromium, or $CHROMIUM; never a
// downloaded browser) with `Accept: text/html`, waits for GraphiQL to render, types
// `{"Authorization": "Bearer $TEAMCLAIMS_API_TOKEN"}` into the Headers editor and
// `{ teams(scopeMrn: "ORG_MRN") { nodes { mrn } } }` into the query editor, presses the run
// button, and checks that the request carried the header and that the result pane shows the
// server's answer: "teams" and no errors.
// Saves a screenshot (also on failure, once a page exists; it shows the token, so use a
// throwaway one) and prints one JSON line: {ok, step, error, screenshot (null if none), ...}.
// Exit status 0 on success, 1 when the check fails, 2 on a usage error.
//
// The page may load nothing from other origins: every request that does not go to the server
// itself is refused and listed under "external" (so the result never depends on the machine's
// network; --allow-external lets them through, still listed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Read a CodeMirror 5 editor's text (GraphiQL 3 uses CodeMirror 5). */
async function editorValue(locator) {
  return locator.evaluate((el) => el.CodeMirror.getValue());
}

/** Type into a CodeMirror editor as a person would; check what it ended up holding. */
async function typeInto(page, editor, text) {
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Backspace');
  // CodeMirror closes brackets and quotes as they are typed and steps over a closing one that
  // is typed again, so typing the whole text yields the text itself.
  await page.keyboard.type(text, { delay: 5 });
  await page.keyboard.press('Escape'); // close an autocomplete popup, if any
  const got = await editorValue(editor);
  if (got.replace(/\s+/g, ' ').trim() !== text.replace(/\s+/g, ' ').trim()) {
    throw new Error(`the editor holds ${JSON.stringify(got)} after typing ${JSON.stringify(text)}`);
  }
}

/**
 * Run the check; never throws for a failed check, returns {ok, step, error, ...}.
 * `setup(context)` (optional) runs after the request policy is installed; its routes take
 * precedence.
 */
export async function checkGraphiQL({
  url, token, orgMrn, screenshot, allowExternal = false, timeout = 30000, setup,
  executablePath = process.env.CHROMIUM || '/usr/bin/chromium',
}) {
  const origin = new URL(url).origin;
  // `teams` is a Relay connection (TeamConnection): its teams are under `nodes`.
  const query = `{ teams(scopeMrn: "${orgMrn}") { nodes { mrn } } }`;
  const out = { ok: false, step: 'launch', error: null, url, query, external: [], allowExternal,
    pageErrors: [],
    console: [], request: null, response: null, result: null, screenshot: null };
  const userDataDir = mkdtempSync(join(tmpdir(), 'teamclaims-graphiql-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 900 },
      timeout,
    });
    context.setDefaultTimeout(timeout);
    await context.route('**/*', async (route) => {
      const req = route.request();
      const reqUrl = req.url();
      if (reqUrl.startsWith('data:') || reqUrl.startsWith('blob:')) return route.continue();
      if (new URL(reqUrl).origin !== origin) {
        out.external.push(reqUrl);
        return allowExternal ? route.continue() : route.abort('blockedbyclient');
      }
      if (req.isNavigationRequest()) {
        return route.continue({ headers: { ...req.headers(), accept: 'text/html' } });
      }
      return route.continue();
    });
    if (setup) await setup(context);
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => out.pageErrors.push(String(err)));
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') out.console.push(msg.text());
    });

    out.step = 'open the page';
    const nav = await page.goto(url, { waitUntil: 'load' });
    if (!nav || !nav.ok()) throw new Error(`GET ${url} answered ${nav?.status()}`);
    const type = nav.headers()['content-type'] || '';
    if (!type.includes('text/html')) throw new Error(`GET ${url} answered ${type}, not HTML`);

    out.step = 'wait for GraphiQL to render';
    // After `load` every script of the page has run or failed: without React and GraphiQL the
    // page cannot render, however long we wait.
    const missing = await page.evaluate(() => ['React', 'ReactDOM', 'GraphiQL']
      .filter((name) => typeof window[name] === 'undefined'));
    if (missing.length) {
      const why = out.external.length && !allowExternal
        ? 'the page loads its scripts from other origins, which this check refuses (see external)'
        : 'see pageErrors and console';
      throw new Error(`GraphiQL cannot render: no ${missing.join(', ')} after the page loaded; ${why}`);
    }
    const queryEditor = page.locator('.graphiql-query-editor .CodeMirror').first();
    try {
      await queryEditor.waitFor({ state: 'visible', timeout: Math.min(timeout, 15000) });
    } catch {
      const body = (await page.locator('body').innerText()).trim().slice(0, 200);
      throw new Error(`GraphiQL did not render (the page shows ${JSON.stringify(body)})`);
    }

    out.step = 'set the Authorization header in the Headers editor';
    await page.locator('.graphiql-editor-tools button[data-name="headers"]').click();
    const headersEditor = page
      .locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror').first();
    await headersEditor.waitFor({ state: 'visible' });
    await typeInto(page, headersEditor, `{"Authorization": "Bearer ${token}"}`);

    out.step = 'type the query';
    await typeInto(page, queryEditor, query);

    out.step = 'press the run button';
    const sent = page.waitForRequest((r) => r.method() === 'POST'
      && new URL(r.url()).origin === origin && (r.postData() || '').includes('teams('));
    await page.locator('.graphiql-execute-button').click();
    const req = await sent;
    const authorization = req.headers().authorization;
    out.request = { url: req.url(), authorization: authorization ? 'Bearer …' : null,
      body: req.postDataJSON() };
    const res = await req.response();
    const text = res ? await res.text() : '';
    out.response = res ? { status: res.status(), body: text.slice(0, 1000) } : null;
    if (authorization !== `Bearer ${token}`) {
      throw new Error(`the request carried Authorization ${JSON.stringify(authorization)}, `
        + 'not the header typed into the Headers editor');
    }

    out.step = 'read the result pane';
    let answer;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new Error(`the server answered ${res?.status()} with a body that is not JSON`);
    }
    // GraphiQL shows the answer pretty-printed: wait until the pane holds exactly that answer.
    const pane = page.locator('.graphiql-response .CodeMirror').first();
    try {
      await page.waitForFunction(([el, want]) => {
        try {
          return JSON.stringify(JSON.parse(el.CodeMirror.getValue())) === want;
        } catch {
          return false;
        }
      }, [await pane.elementHandle(), JSON.stringify(answer)], { timeout: Math.min(timeout, 10000) });
    } catch {
      throw new Error('the result pane never showed the server\'s answer');
    } finally {
      out.result = (await editorValue(pane)).slice(0, 1000);
    }
    if (answer.errors) throw new Error(`the query failed: ${JSON.stringify(answer.errors)}`);
    if (!out.result.includes('"teams"')) throw new Error('the result pane does not show "teams"');
    out.ok = true;
    out.step = 'done';
  } catch (err) {
    out.error = String(err?.message || err).split('\n')[0];
  } finally {
    if (context) {
      const page = context.pages()[0];
      if (page && screenshot) {
        await page.screenshot({ path: screenshot, fullPage: true })
          .then(() => { out.screenshot = screenshot; })
          .catch((err) => { out.screenshotError = String(err?.message || err).split('\n')[0]; });
      }
      await context.close().catch(() => {});
    }
    rmSync(userDataDir, { recursive: true, force: true });
  }
  return out;
}

async function main(argv) {
  const allowExternal = argv.includes('--allow-external');
  const positional = argv.filter((a) => a !== '--allow-external');
  const token = process.env.TEAMCLAIMS_API_TOKEN;
  if (positional.length !== 3 || !token) {
    process.stderr.write('usage: TEAMCLAIMS_API_TOKEN=TOKEN node graphiql.mjs URL ORG_MRN '
      + 'SCREENSHOT [--allow-external]\n');
    return 2;
  }
  const [url, orgMrn, screenshot] = positional;
  const result = await checkGraphiQL({ url, token, orgMrn, screenshot, allowExternal });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (!result.ok) {
    process.stderr.write(`GraphiQL check failed at "${result.step}": ${result.error}\n`);
    if (result.external.length) {
      process.stderr.write(`requests to other origins (${allowExternal ? 'allowed' : 'refused'}):`
        + `\n  ${result.external.join('\n  ')}\n`);
    }
  }
  return result.ok ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
