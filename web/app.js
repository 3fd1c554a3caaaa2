'use strict';
/* The chat page: conversations in localStorage, answers streamed from this
 * server's OpenAI API (POST /v1/chat/completions, stream: true). */
(function () {
  const { render: renderMarkdown } = window.LlmkitMarkdown;
  const { SseParser } = window.LlmkitSse;
  const { STRINGS, defaultLang } = window.LlmkitI18n;

  const KEY = {
    conversations: 'llmkit.conversations',
    current: 'llmkit.current',
    settings: 'llmkit.settings',
    apiKey: 'llmkit.apiKey',
    lang: 'llmkit.lang',
  };
  const SETTING_FIELDS = ['system', 'temperature', 'top_p', 'max_tokens', 'seed'];

  const $ = (id) => document.getElementById(id);
  const el = {
    app: $('app'), sidebar: $('sidebar'), scrim: $('scrim'), list: $('conv-list'),
    newChat: $('new-chat'), menu: $('menu'), model: $('model-name'), status: $('status'),
    messages: $('messages'), composer: $('composer'), input: $('input'), send: $('send'),
    stop: $('stop'), settings: $('settings'), openSettings: $('open-settings'),
    settingsBtn: $('settings-btn'), closeSettings: $('close-settings'), lang: $('lang-toggle'),
    apiKey: $('api-key'), toast: $('toast'),
  };

  // ------------------------------------------------------------ storage
  function load(key, fallback) {
    try {
      const v = localStorage.getItem(key);
      return v == null ? fallback : JSON.parse(v);
    } catch (e) {
      return fallback;
    }
  }
  function save(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch (e) {
      toast(t('storageFull'));
    }
  }

  const state = {
    lang: load(KEY.lang, null) || defaultLang(navigator.language),
    conversations: load(KEY.conversations, []),
    currentId: load(KEY.current, null),
    settings: Object.assign({ system: '', temperature: '', top_p: '', max_tokens: '', seed: '' },
      load(KEY.settings, {})),
    apiKey: (() => { try { return localStorage.getItem(KEY.apiKey) || ''; } catch (e) { return ''; } })(),
    model: null,
    stream: null, // {conv, reply, controller} while an answer streams
  };
  // Whatever is in storage (another version, a hand edit) must not break the page.
  state.conversations = (Array.isArray(state.conversations) ? state.conversations : [])
    .filter((c) => c && typeof c.id === 'string' && Array.isArray(c.messages))
    .map((c) => Object.assign(c, {
      title: typeof c.title === 'string' ? c.title : '',
      updated: Number(c.updated) || 0,
      messages: c.messages.filter((m) => m && typeof m.role === 'string' && typeof m.content === 'string'),
    }));
  for (const name of SETTING_FIELDS) {
    const v = state.settings[name];
    state.settings[name] = v == null ? '' : String(v);
  }
  if (!STRINGS[state.lang]) state.lang = 'en';

  function t(key, ...args) {
    const v = STRINGS[state.lang][key];
    return typeof v === 'function' ? v(...args) : v;
  }
  function saveConversations() {
    save(KEY.conversations, state.conversations);
    save(KEY.current, state.currentId);
  }
  function current() {
    return state.conversations.find((c) => c.id === state.currentId) || null;
  }
  function newId() {
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  }
  // A title from the first message, cut at whole characters (not UTF-16 units).
  function titleFrom(text) {
    const chars = Array.from(text.replace(/\s+/g, ' ').trim());
    return chars.length > 40 ? chars.slice(0, 40).join('') + '…' : chars.join('');
  }

  // ------------------------------------------------------------ UI text
  function applyLanguage() {
    document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
    for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll('[data-i18n-placeholder]')) {
      node.placeholder = t(node.dataset.i18nPlaceholder);
    }
    for (const node of document.querySelectorAll('[data-i18n-title]')) {
      node.title = t(node.dataset.i18nTitle);
      node.setAttribute('aria-label', node.title);
    }
    el.lang.textContent = t('otherLang');
    renderList();
    renderConversation();
  }

  let toastTimer = 0;
  function toast(text) {
    el.toast.textContent = text;
    el.toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.toast.hidden = true; }, 3000);
  }

  // ------------------------------------------------------------ sidebar
  function renderList() {
    el.list.textContent = '';
    const sorted = state.conversations.slice().sort((a, b) => b.updated - a.updated);
    for (const conv of sorted) {
      const item = document.createElement('div');
      item.className = 'conv' + (conv.id === state.currentId ? ' active' : '');
      item.dataset.id = conv.id;
      const open = document.createElement('button');
      open.type = 'button';
      open.className = 'conv-open';
      open.textContent = conv.title || t('newChat');
      open.title = open.textContent;
      const del = document.createElement('button');
      del.type = 'button';
      del.className = 'conv-delete';
      del.textContent = '×';
      del.title = t('deleteChat');
      del.setAttribute('aria-label', del.title);
      item.append(open, del);
      el.list.append(item);
    }
  }

  el.list.addEventListener('click', (e) => {
    const item = e.target.closest('.conv');
    if (!item) return;
    const id = item.dataset.id;
    if (e.target.closest('.conv-delete')) {
      if (state.stream && state.stream.conv.id === id) state.stream.controller.abort();
      state.conversations = state.conversations.filter((c) => c.id !== id);
      if (state.currentId === id) state.currentId = null;
    } else {
      state.currentId = id;
      closeSidebar();
    }
    saveConversations();
    renderList();
    renderConversation();
  });

  function startNewChat() {
    state.currentId = null; // created on the first message, so empty chats don't pile up
    save(KEY.current, null);
    renderList();
    renderConversation();
    closeSidebar();
    el.input.focus();
  }
  el.newChat.addEventListener('click', startNewChat);

  function closeSidebar() {
    el.app.classList.remove('sidebar-open');
  }
  el.menu.addEventListener('click', () => el.app.classList.toggle('sidebar-open'));
  el.scrim.addEventListener('click', closeSidebar);

  // ------------------------------------------------------------ messages
  function renderConversation() {
    const conv = current();
    el.messages.textContent = '';
    if (!conv || conv.messages.length === 0) {
      const empty = document.createElement('div');
      empty.className = 'empty';
      const h = document.createElement('h2');
      h.textContent = t('emptyTitle');
      empty.append(h);
      if (state.model) {
        const p = document.createElement('p');
        p.textContent = t('emptyHint', state.model);
        empty.append(p);
      }
      el.messages.append(empty);
      return;
    }
    conv.messages.forEach((msg, i) => el.messages.append(messageNode(msg, i)));
    el.messages.scrollTop = el.messages.scrollHeight;
  }

  function messageNode(msg, index) {
    const node = document.createElement('div');
    node.className = 'msg ' + msg.role;
    node.dataset.index = String(index);
    const body = document.createElement('div');
    body.className = 'body';
    node.append(body);
    const stats = document.createElement('div');
    stats.className = 'stats';
    node.append(stats);
    fillMessage(node, msg);
    return node;
  }

  function fillMessage(node, msg) {
    const body = node.querySelector('.body');
    if (msg.role === 'assistant') {
      body.innerHTML = renderMarkdown(msg.content, { copyLabel: t('copy') });
    } else if (msg.role === 'error') {
      body.textContent = t('errorPrefix') + msg.content;
    } else {
      body.textContent = msg.content;
    }
    node.classList.toggle('streaming', Boolean(state.stream && state.stream.reply === msg));
    node.querySelector('.stats').textContent = statsText(msg);
  }

  function statsText(msg) {
    const s = msg.stats;
    const parts = [];
    if (s) {
      parts.push(t('tokens', s.completion, s.approx));
      if (s.tps != null) parts.push(t('speed', s.tps.toFixed(1)));
      if (s.ttft != null) parts.push(t('firstToken', Math.round(s.ttft)));
      if (s.prompt != null) parts.push(t('promptTokens', s.prompt));
    }
    if (msg.finish === 'length') parts.push(t('cutAtLength'));
    if (msg.stopped) parts.push(t('stopped'));
    return parts.join(' · ');
  }

  function nearBottom() {
    const m = el.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
  }

  // Redraws one message of the shown conversation in place.
  function updateMessage(conv, msg) {
    if (conv.id !== state.currentId) return;
    const index = conv.messages.indexOf(msg);
    const node = el.messages.querySelector('.msg[data-index="' + index + '"]');
    if (!node) return;
    const stick = nearBottom();
    fillMessage(node, msg);
    if (stick) el.messages.scrollTop = el.messages.scrollHeight;
  }

  el.messages.addEventListener('click', async (e) => {
    const button = e.target.closest('.copy-code');
    if (!button) return;
    const code = button.closest('.code-block').querySelector('code').textContent;
    if (await copyText(code)) {
      button.textContent = t('copied');
      setTimeout(() => { button.textContent = t('copy'); }, 1500);
    }
  });

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (e) {
      // Plain http on a LAN address is no secure context: no clipboard API.
      const area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.append(area);
      area.select();
      let ok = false;
      try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
      area.remove();
      return ok;
    }
  }

  // ------------------------------------------------------------ API
  function headers() {
    const h = { 'Content-Type': 'application/json' };
    if (state.apiKey) h.Authorization = 'Bearer ' + state.apiKey;
    return h;
  }

  // The message of an OpenAI error envelope, or a description of the status.
  async function errorMessage(res) {
    let text = '';
    try { text = await res.text(); } catch (e) { /* body lost: use the status */ }
    try {
      const obj = JSON.parse(text);
      if (obj && obj.error) {
        return typeof obj.error === 'string' ? obj.error : obj.error.message || JSON.stringify(obj.error);
      }
    } catch (e) { /* not JSON */ }
    return text.trim() ? text.trim().slice(0, 500) : t('httpError', res.status);
  }

  async function loadModel() {
    el.status.textContent = t('connecting');
    el.status.className = '';
    try {
      const res = await fetch('/v1/models', { headers: headers() });
      if (!res.ok) {
        const msg = await errorMessage(res);
        el.status.textContent = res.status === 401 ? t('needKey') : msg;
        el.status.className = 'bad';
        return;
      }
      const list = await res.json();
      const first = list && Array.isArray(list.data) && list.data[0];
      state.model = first ? first.id : null;
      el.model.textContent = state.model || '';
      el.status.textContent = '';
      if (!current()) renderConversation();
    } catch (e) {
      el.status.textContent = t('offline');
      el.status.className = 'bad';
    }
  }

  function requestBody(conv) {
    const messages = [];
    if (state.settings.system.trim()) messages.push({ role: 'system', content: state.settings.system });
    for (const m of conv.messages) {
      if ((m.role === 'user' || m.role === 'assistant') && m.content) {
        messages.push({ role: m.role, content: m.content });
      }
    }
    const body = { messages, stream: true, stream_options: { include_usage: true } };
    if (state.model) body.model = state.model;
    const num = (name, parse) => {
      const raw = String(state.settings[name]).trim();
      if (raw === '') return;
      const v = parse(raw);
      if (Number.isFinite(v)) body[name] = v;
    };
    num('temperature', Number);
    num('top_p', Number);
    num('max_tokens', (s) => parseInt(s, 10));
    num('seed', (s) => parseInt(s, 10));
    return body;
  }

  async function sendMessage(text) {
    if (state.stream || !text.trim()) return;
    let conv = current();
    if (!conv) {
      conv = { id: newId(), title: '', created: Date.now(), updated: Date.now(), messages: [] };
      state.conversations.push(conv);
      state.currentId = conv.id;
    }
    conv.messages.push({ role: 'user', content: text });
    if (!conv.title) conv.title = titleFrom(text);
    const reply = { role: 'assistant', content: '' };
    const body = requestBody(conv);
    conv.messages.push(reply);
    conv.updated = Date.now();
    const controller = new AbortController();
    state.stream = { conv, reply, controller };
    setBusy(true);
    saveConversations();
    renderList();
    renderConversation();

    const t0 = performance.now();
    const seen = { tFirst: 0, chunks: 0, usage: null }; // filled as the answer arrives
    let error = null;
    try {
      const res = await fetch('/v1/chat/completions', {
        method: 'POST', headers: headers(), body: JSON.stringify(body), signal: controller.signal,
      });
      if (!res.ok) {
        if (res.status === 401) loadModel();
        throw new Error(await errorMessage(res));
      }
      if (/application\/json/.test(res.headers.get('Content-Type') || '')) await readWhole(res, reply, seen);
      else await readStream(res, reply, seen, () => updateMessage(conv, reply));
    } catch (e) {
      if (e.name === 'AbortError') reply.stopped = true;
      else error = e.message || String(e);
    }
    const { tFirst, chunks, usage } = seen;
    const tEnd = performance.now();
    const n = usage && Number.isFinite(usage.completion_tokens) ? usage.completion_tokens : chunks;
    if (n > 0) {
      // Generation speed: tokens after the first over the time after the first,
      // so prompt processing does not count.
      const genMs = tFirst ? tEnd - tFirst : 0;
      const tps = n > 1 && genMs > 0 ? (n - 1) / (genMs / 1000) : n / ((tEnd - t0) / 1000);
      reply.stats = {
        completion: n, approx: !usage, tps,
        ttft: tFirst ? tFirst - t0 : null,
        prompt: usage && Number.isFinite(usage.prompt_tokens) ? usage.prompt_tokens : null,
      };
    }
    if (error) {
      if (!reply.content) conv.messages.splice(conv.messages.indexOf(reply), 1);
      conv.messages.push({ role: 'error', content: error });
    }
    conv.updated = Date.now();
    state.stream = null;
    setBusy(false);
    saveConversations();
    if (conv.id === state.currentId) renderConversation();
  }

  // Reads an SSE answer into reply as it arrives, calling progress() after
  // each network chunk. Throws the stream's error event, or AbortError on stop.
  async function readStream(res, reply, seen, progress) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder('utf-8'); // stream: true keeps split UTF-8 sequences whole
    const sse = new SseParser();
    let finished = false;
    const handle = (data) => {
      if (finished) return;
      if (data === '[DONE]') { finished = true; return; }
      let obj;
      try { obj = JSON.parse(data); } catch (e) { return; } // not an event of ours
      if (obj.error) throw new Error(obj.error.message || JSON.stringify(obj.error));
      const choice = obj.choices && obj.choices[0];
      if (choice) {
        const piece = choice.delta && choice.delta.content;
        if (piece) {
          if (!seen.tFirst) seen.tFirst = performance.now();
          reply.content += piece;
          seen.chunks++;
        }
        if (choice.finish_reason) reply.finish = choice.finish_reason;
      }
      if (obj.usage) seen.usage = obj.usage;
    };
    // Read to the end even after [DONE] (the server closes right after), so
    // the connection ends cleanly instead of being cut.
    for (;;) {
      const { value, done } = await reader.read();
      const events = done ? sse.feed(decoder.decode()).concat(sse.end())
        : sse.feed(decoder.decode(value, { stream: true }));
      events.forEach(handle);
      progress();
      if (done) break;
    }
  }

  // A server that answered without streaming: the whole message at once.
  async function readWhole(res, reply, seen) {
    const obj = await res.json();
    const choice = obj.choices && obj.choices[0];
    reply.content = (choice && choice.message && choice.message.content) || '';
    reply.finish = choice && choice.finish_reason;
    if (reply.content) seen.tFirst = performance.now();
    seen.usage = obj.usage || null;
  }

  function setBusy(busy) {
    el.send.hidden = busy;
    el.stop.hidden = !busy;
    el.app.classList.toggle('busy', busy);
  }

  // ------------------------------------------------------------ composer
  function autosize() {
    el.input.style.height = 'auto';
    el.input.style.height = Math.min(el.input.scrollHeight, 200) + 'px';
  }
  el.input.addEventListener('input', autosize);
  el.input.addEventListener('keydown', (e) => {
    // Enter while an IME is composing (Chinese input) picks a candidate: never send then.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      el.composer.requestSubmit();
    }
  });
  el.composer.addEventListener('submit', (e) => {
    e.preventDefault();
    if (state.stream) return;
    const text = el.input.value;
    if (!text.trim()) return;
    el.input.value = '';
    autosize();
    sendMessage(text);
  });
  el.stop.addEventListener('click', () => {
    if (state.stream) state.stream.controller.abort();
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.stream && !el.settings.open) state.stream.controller.abort();
  });

  // ------------------------------------------------------------ settings
  function openSettings() {
    for (const name of SETTING_FIELDS) $('set-' + name).value = state.settings[name];
    el.apiKey.value = state.apiKey;
    if (typeof el.settings.showModal === 'function') el.settings.showModal();
    else el.settings.setAttribute('open', '');
  }
  el.openSettings.addEventListener('click', openSettings);
  el.settingsBtn.addEventListener('click', openSettings);
  el.closeSettings.addEventListener('click', () => el.settings.close());
  el.settings.addEventListener('input', (e) => {
    const name = e.target.id.replace(/^set-/, '');
    if (SETTING_FIELDS.includes(name)) {
      state.settings[name] = e.target.value;
      save(KEY.settings, state.settings);
    }
  });
  el.apiKey.addEventListener('change', () => {
    state.apiKey = el.apiKey.value.trim();
    try {
      if (state.apiKey) localStorage.setItem(KEY.apiKey, state.apiKey);
      else localStorage.removeItem(KEY.apiKey);
    } catch (e) { toast(t('storageFull')); }
    loadModel();
  });

  el.lang.addEventListener('click', () => {
    state.lang = state.lang === 'zh' ? 'en' : 'zh';
    save(KEY.lang, state.lang);
    applyLanguage();
  });

  // Another tab changed the conversations: show them (never while streaming here).
  window.addEventListener('storage', (e) => {
    if (e.key !== KEY.conversations || state.stream) return;
    state.conversations = load(KEY.conversations, []);
    renderList();
    renderConversation();
  });

  if (!current()) state.currentId = null;
  applyLanguage();
  setBusy(false);
  loadModel();
  el.input.focus();
  // For tests and curious users: the renderer and the stream parser.
  window.llmkit = { renderMarkdown, SseParser, state };
})();
