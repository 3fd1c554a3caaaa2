// Drives the web chat of a running `llmkit serve` in headless Chromium. The
// page is loaded through slow_proxy.mjs, which passes everything through and,
// when asked, hands streamed answers over slowly.
// Env: LLMKIT_WEB_URL (the server), LLMKIT_WEB_API_KEY (the key it was
// started with), CHROMIUM (default /usr/bin/chromium), LLMKIT_WEB_SCREENSHOT
// (the PNG to write; a -phone.png goes next to it). Exits 1 on the first
// failed check, naming it.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { startSlowProxy } from './slow_proxy.mjs';

const base = process.env.LLMKIT_WEB_URL;
const apiKey = process.env.LLMKIT_WEB_API_KEY || '';
const shot = process.env.LLMKIT_WEB_SCREENSHOT || 'web-chat.png';
const auth = apiKey ? { Authorization: 'Bearer ' + apiKey } : {};

let failures = 0;
function check(ok, what) {
  console.log((ok ? 'ok   ' : 'FAIL ') + what);
  if (!ok) failures++;
}
function fatal(what) {
  console.log('FAIL ' + what);
  process.exit(1);
}

async function api(pathname, body) {
  const res = await fetch(base + pathname, {
    method: body ? 'POST' : 'GET',
    headers: { 'Content-Type': 'application/json', ...auth },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json() };
}

// Waits for the server: /health is 503 while the model loads.
for (let i = 0; ; i++) {
  try {
    const res = await fetch(base + '/health');
    if (res.status === 200) break;
  } catch (e) { /* not listening yet */ }
  if (i > 300) fatal('server did not become healthy at ' + base);
  await new Promise((r) => setTimeout(r, 100));
}
const models = await api('/v1/models');
const modelId = models.json.data[0].id;

const proxy = await startSlowProxy(base);
// The server sends what it generated since its last write as one event, so
// a fast model makes few, long events; paced, they still arrive one by one.
const PACED = { bytes: 53, ms: 3 }; // ~18 kB/s
const SLOW = { bytes: 53, ms: 10 }; // ~5 kB/s: a long answer takes many seconds
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, locale: 'en-US' });
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: proxy.url });
const page = await context.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
page.on('dialog', (d) => { pageErrors.push('unexpected dialog: ' + d.message()); d.dismiss(); });
const chatBodies = [];
page.on('request', (r) => {
  if (r.url().endsWith('/v1/chat/completions')) chatBodies.push(JSON.parse(r.postData() || '{}'));
});
page.setDefaultTimeout(20000);

const stored = () => page.evaluate(() => JSON.parse(localStorage.getItem('llmkit.conversations') || '[]'));
const idle = () => page.waitForSelector('#send:not([hidden])', { state: 'visible' });
async function send(text) {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
}
// Records the length of the last answer's text at each DOM change.
async function recordGrowth() {
  await page.evaluate(() => {
    window.__lengths = [];
    const box = document.getElementById('messages');
    window.__observer = new MutationObserver(() => {
      const answers = box.querySelectorAll('.msg.assistant .body');
      const last = answers[answers.length - 1];
      if (last) window.__lengths.push(last.textContent.length);
    });
    window.__observer.observe(box, { childList: true, subtree: true, characterData: true });
  });
}
await page.goto(proxy.url + '/');
check((await page.title()).includes('llmkit'), 'GET / serves the chat page');

// ---- the renderer and the SSE parser, in the page
const unit = await page.evaluate(() => {
  const { renderMarkdown, SseParser } = window.llmkit;
  const evil = [
    '<script>window.__pwned = 1</script>',
    '<img src=x onerror="window.__pwned = 1">',
    '[click](javascript:window.__pwned=1)',
    '**<b onclick=alert(1)>x</b>** `<svg onload=alert(1)>`',
    '```html\n<script>alert(1)</script>\n```',
    '[a](https://example.com/"onmouseover="alert(1))',
    '> <iframe src=javascript:alert(1)>',
    '- <a href="javascript:alert(1)">x</a>',
    '| <img src=x onerror=alert(1)> | b |\n|---|---|\n| <script>alert(1)</script> | [y](javascript:alert(1)) |',
  ].join('\n\n');
  const box = document.createElement('div');
  box.innerHTML = renderMarkdown(evil, { copyLabel: 'Copy' });
  const allowed = new Set(['P', 'BR', 'STRONG', 'EM', 'DEL', 'CODE', 'PRE', 'A', 'H1', 'H2', 'H3', 'H4', 'H5',
    'H6', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'HR', 'DIV', 'SPAN', 'BUTTON', 'TABLE', 'THEAD', 'TBODY', 'TR', 'TH', 'TD']);
  const bad = [];
  for (const n of box.querySelectorAll('*')) {
    if (!allowed.has(n.tagName)) bad.push(n.tagName);
    for (const a of n.attributes) {
      if (/^on/i.test(a.name)) bad.push(n.tagName + '@' + a.name);
      if (a.name === 'href' && !/^https?:\/\//.test(a.value)) bad.push('href ' + a.value);
    }
  }
  const md = document.createElement('div');
  md.innerHTML = renderMarkdown('# T\n**b** *i* `c` [l](https://example.com/a?b=1&c=2)\n\n- x\n- y\n\n1. one\n\n| h | 中 |\n|:-:|--:|\n| 1 | 二 |\n\n```js\nlet x = "<b>";\n```');
  const shape = ['h1', 'strong', 'em', 'p code', 'a[href="https://example.com/a?b=1&c=2"]', 'ul li + li', 'ol li',
    '.code-block pre code.language-js', '.code-block button.copy-code', 'table th.align-center + th.align-right',
    'tbody td + td.align-right'].filter((s) => !md.querySelector(s));
  const code = md.querySelector('pre code');

  // SSE through TextDecoder(stream), the stream cut at every byte position
  // (inside multi-byte characters and CR LF pairs included).
  const text = 'data: {"c":"你好 🙂"}\r\n\r\n: keep-alive\n\ndata: {"c":"é"}\n\ndata: [DONE]\n\n';
  const bytes = new TextEncoder().encode(text);
  let sseBad = 0;
  for (let cut = 0; cut <= bytes.length; cut++) {
    const dec = new TextDecoder('utf-8');
    const p = new SseParser();
    const ev = p.feed(dec.decode(bytes.slice(0, cut), { stream: true }))
      .concat(p.feed(dec.decode(bytes.slice(cut), { stream: true })), p.feed(dec.decode()), p.end());
    if (JSON.stringify(ev) !== JSON.stringify(['{"c":"你好 🙂"}', '{"c":"é"}', '[DONE]'])) sseBad++;
  }
  return { bad, text: box.textContent, shape, code: code && code.textContent, sseBad };
});
check(unit.bad.length === 0, 'markdown renders no injected tag or attribute: ' + unit.bad.join(', '));
check(unit.text.includes('<script>window.__pwned = 1</script>') && unit.text.includes('<img src=x'),
  'injected HTML shows as text');
check(unit.shape.length === 0, 'markdown renders headings, emphasis, code, links, lists: missing ' + unit.shape.join(', '));
check(unit.code === 'let x = "<b>";', 'code block keeps its text: ' + unit.code);
check(unit.sseBad === 0, 'SSE parser survives every chunk split (' + unit.sseBad + ' bad splits)');

// ---- API key: without it the page says so and the API error is shown
await page.waitForFunction(() => document.getElementById('status').textContent !== 'connecting…');
if (apiKey) {
  check((await page.textContent('#status')).includes('API key'), 'no key: the status asks for one');
  await send('hello');
  await idle();
  const err = await page.textContent('.msg.error .body').catch(() => '');
  check(err.startsWith('Error: ') && err.length > 'Error: '.length, 'a 401 shows the API error message: ' + err);
  await page.click('.conv.active .conv-delete');
  check((await page.$$('.conv')).length === 0 && (await stored()).length === 0, 'the delete button removes a conversation');
}

// ---- settings: key, temperature 0, max tokens
await page.click('#settings-btn');
if (apiKey) await page.fill('#api-key', apiKey);
await page.fill('#set-temperature', '0');
await page.fill('#set-max_tokens', '400');
await page.click('#close-settings');
await page.waitForFunction((id) => document.getElementById('model-name').textContent === id, modelId);
check(true, 'the model name from /v1/models is shown: ' + modelId);

// ---- a streamed answer that grows, identical to the API's non-streamed one
const prompt1 = 'Tell me a story about a cat.';
await recordGrowth();
proxy.pace = PACED;
await send(prompt1);
await idle();
proxy.pace = null;
const lengths = await page.evaluate(() => window.__lengths);
const distinct = [...new Set(lengths)].filter((n) => n > 0);
check(distinct.length >= 3 && distinct.every((n, i) => i === 0 || n > distinct[i - 1]),
  'the answer appears piece by piece (lengths ' + distinct.slice(0, 8).join(',') + '…)');
let convs = await stored();
const conv1 = convs.find((c) => c.messages[0].content === prompt1);
const answer1 = conv1 && conv1.messages[1];
const direct = await api('/v1/chat/completions', {
  model: modelId, messages: [{ role: 'user', content: prompt1 }], temperature: 0, max_tokens: 400,
});
check(answer1 && answer1.content.length > 0 && answer1.content === direct.json.choices[0].message.content,
  'streamed answer equals the non-streamed API answer (greedy): ' + JSON.stringify(answer1 && answer1.content));
const body1 = chatBodies[chatBodies.length - 1];
check(body1.stream === true && body1.stream_options && body1.stream_options.include_usage === true &&
  body1.temperature === 0 && body1.max_tokens === 400 && body1.model === modelId,
  'request: stream, include_usage, temperature, max_tokens, model');
const stats1 = await page.textContent('.msg.assistant .stats');
const ntok = Number((/(\d+) tokens?/.exec(stats1) || [])[1]);
check(/tok\/s/.test(stats1) && !stats1.includes('≈') && ntok === direct.json.usage.completion_tokens,
  'tokens and tokens/s under the answer, from usage: ' + stats1);

// ---- stop a long answer: the request is aborted and the page is ready again
await page.click('#new-chat');
await page.click('#settings-btn');
await page.fill('#set-max_tokens', '');
await page.click('#close-settings');
const prompt2 = 'Once upon a time there was a little girl named Lily.';
const full2 = await api('/v1/chat/completions', { model: modelId, messages: [{ role: 'user', content: prompt2 }], temperature: 0 });
proxy.pace = SLOW;
let aborted = false;
page.on('requestfailed', (r) => { if (r.url().endsWith('/v1/chat/completions')) aborted = true; });
await send(prompt2);
await page.waitForFunction(() => {
  const b = document.querySelectorAll('.msg.assistant .body');
  return b.length && b[b.length - 1].textContent.length > 0;
});
await page.click('#stop');
await idle();
proxy.pace = null;
convs = await stored();
const stoppedConv = convs.find((c) => c.messages[0].content === prompt2);
const reply2 = stoppedConv && stoppedConv.messages[1];
for (let i = 0; i < 20 && proxy.aborted === 0; i++) await new Promise((r) => setTimeout(r, 100));
check(aborted && proxy.aborted === 1 && reply2 && reply2.stopped === true,
  'stop aborts the request (the browser closed the connection)');
check(reply2 && reply2.content.length > 0 && reply2.content.length < full2.json.choices[0].message.content.length,
  'the stopped answer keeps what arrived (' + (reply2 && reply2.content.length) + ' of ' +
  full2.json.choices[0].message.content.length + ' chars)');
check((await page.textContent('.msg.assistant .stats')).includes('stopped'), 'the answer is marked stopped');
check(await page.isEditable('#input'), 'the input is usable after stop');
let busy = -1;
for (let i = 0; i < 50 && busy !== 0; i++) {
  const metrics = await (await fetch(base + '/metrics', { headers: auth })).text();
  busy = Number((/^llmkit_slots_busy (\S+)$/m.exec(metrics) || [])[1]);
  if (busy !== 0) await new Promise((r) => setTimeout(r, 100));
}
check(busy === 0, 'the server has no busy slot after stop (/metrics llmkit_slots_busy ' + busy + ')');
await send('What did she do next?');
await idle();
convs = await stored();
const follow = convs.find((c) => c.messages[0].content === prompt2);
check(follow.messages.length === 4 && follow.messages[3].role === 'assistant' && follow.messages[3].content.length > 0,
  'the next message after stop gets an answer');
check(chatBodies[chatBodies.length - 1].messages.length === 3, 'the history (with the stopped answer) is sent');

// ---- Chinese: toggle, type, and it is kept
await page.click('#lang-toggle');
check((await page.textContent('#send')) === '发送', 'the language toggle switches to Chinese');
await page.click('#new-chat');
const zhPrompt = '你好，请讲一个关于小猫的故事。🙂';
await send(zhPrompt);
await idle();
check((await page.textContent('.msg.user .body')) === zhPrompt, 'Chinese text in the message');

// ---- reload: the conversations and their messages are still there
await page.reload();
await page.waitForSelector('.conv');
const titles = await page.$$eval('.conv-open', (b) => b.map((x) => x.textContent));
check(titles.length === 3 && titles.includes(prompt1) && titles.includes(titles.find((x) => x.startsWith('你好'))) &&
  titles.some((x) => x.startsWith('Once upon')), 'after reload the list has the 3 conversations: ' + titles.join(' | '));
check((await page.textContent('#send')) === '发送', 'the language choice is kept');
await page.click('.conv-open >> text=' + prompt1);
const shown = await page.$$eval('.msg', (m) => m.map((x) => x.className + ':' + x.querySelector('.body').textContent));
check(shown.length === 2 && shown[0].endsWith(prompt1) && shown[1].startsWith('msg assistant'),
  'switching to a conversation shows its messages');

// ---- model-ish content with HTML, stored and shown: text only, nothing runs
await page.evaluate(() => {
  const convs = JSON.parse(localStorage.getItem('llmkit.conversations'));
  convs.push({ id: 'evil', title: '<img src=x onerror=alert(1)>', updated: Date.now() + 1000, messages: [
    { role: 'user', content: '<b>hi</b>' },
    { role: 'assistant', content: '## Markdown 与 HTML\n\nHere, as **text**:\n\n<script>window.__pwned=1</script>\n\n' +
      '<img src=x onerror="window.__pwned=1">\n\n[x](javascript:window.__pwned=1) and [a real link](https://example.com)\n\n' +
      '```sh\necho "<hello>"\n```\n\n| 名称 | `value` |\n|---|--:|\n| <b>bold?</b> | 42 |\n\n' +
      '1. first *item*\n2. 第二项 ~~old~~\n\n> a quote with `code`' },
  ] });
  localStorage.setItem('llmkit.conversations', JSON.stringify(convs));
  localStorage.setItem('llmkit.current', JSON.stringify('evil'));
});
await page.reload();
await page.waitForSelector('.msg.assistant');
const evil = await page.evaluate(() => ({
  pwned: window.__pwned,
  tags: document.querySelectorAll('#messages img, #messages script, #conv-list img, #messages b').length,
  text: document.querySelector('.msg.assistant .body').textContent,
  js: document.querySelectorAll('#messages a[href^="javascript"]').length,
}));
check(evil.pwned === undefined && evil.tags === 0 && evil.js === 0 &&
  evil.text.includes('<script>window.__pwned=1</script>') && evil.text.includes('<img src=x'),
  'stored model output with <script>/<img onerror> renders as text');
await page.click('.copy-code');
await page.waitForFunction(() => document.querySelector('.copy-code').textContent === '已复制');
const clip = await page.evaluate(() => navigator.clipboard.readText());
check(clip === 'echo "<hello>"', 'the copy button copies the code: ' + JSON.stringify(clip));
await page.screenshot({ path: shot.replace(/\.png$/, '') + '-markdown.png' });

// ---- screenshots: desktop, then phone-sized without horizontal overflow
await page.click('.conv-open >> text=' + prompt1);
await page.click('#lang-toggle');
fs.mkdirSync(path.dirname(shot), { recursive: true });
await page.screenshot({ path: shot });
await page.setViewportSize({ width: 390, height: 760 });
await page.waitForTimeout(300); // the drawer's slide
const phone = await page.evaluate(() => ({
  doc: document.documentElement.scrollWidth - window.innerWidth,
  msgs: (() => { const m = document.getElementById('messages'); return m.scrollWidth - m.clientWidth; })(),
  sidebarRight: document.getElementById('sidebar').getBoundingClientRect().right,
  menu: getComputedStyle(document.getElementById('menu')).display,
}));
check(phone.doc <= 0 && phone.msgs <= 0, 'phone-sized window: no horizontal overflow (' + phone.doc + ', ' + phone.msgs + ')');
check(phone.sidebarRight <= 0 && phone.menu !== 'none', 'phone-sized window: the sidebar collapses behind a menu button');
await page.screenshot({ path: shot.replace(/\.png$/, '') + '-phone.png' });
await page.click('#menu');
await page.waitForTimeout(300);
check(await page.evaluate(() => document.getElementById('sidebar').getBoundingClientRect().left >= 0),
  'the menu button opens the sidebar');
await page.screenshot({ path: shot.replace(/\.png$/, '') + '-phone-menu.png' });

// ---- storage from elsewhere (an old version, a hand edit) does not break the page
await page.evaluate(() => {
  localStorage.setItem('llmkit.conversations', JSON.stringify([null, 7, { id: 'a' }, { id: 'b', title: 3,
    messages: [{ role: 'user' }, { role: 'user', content: 'kept' }] }]));
  localStorage.setItem('llmkit.current', JSON.stringify('b'));
  localStorage.setItem('llmkit.settings', JSON.stringify({ system: 5, seed: null }));
});
await page.reload();
await page.waitForSelector('.msg.user');
check((await page.$$('.conv')).length === 1 && (await page.textContent('.msg.user .body')) === 'kept',
  'broken stored conversations are skipped, valid ones shown');

// ---- the language defaults from the browser's
const zhContext = await browser.newContext({ locale: 'zh-CN' });
const zhPage = await zhContext.newPage();
await zhPage.goto(proxy.url + '/');
check((await zhPage.textContent('#send')) === '发送', 'a Chinese browser gets the Chinese page');

check(pageErrors.length === 0, 'no page errors: ' + pageErrors.join('; '));
await browser.close();
await proxy.close();
console.log(failures ? failures + ' check(s) failed' : 'all checks passed');
process.exit(failures ? 1 : 0);
