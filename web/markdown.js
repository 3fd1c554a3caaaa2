'use strict';
/* Markdown to HTML for model output. The whole input is HTML-escaped before
 * anything else, so the only markup in the result is what this renderer adds
 * itself (a fixed set of tags; href only for http(s) links; class only from
 * [\w+#.-] or a fixed alignment). Model output can therefore never inject
 * tags or attributes.
 * Supported: headings, paragraphs, bold/italic/strikethrough, inline code,
 * fenced code blocks (with a copy button), lists, tables, blockquotes, rules,
 * links. */
(function (global) {
  function escapeHtml(s) {
    return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  }

  // Inline spans of one block of already-escaped text. Code spans and link
  // tags are parked in slots (\u0000N\u0000) so emphasis never touches them.
  function inline(esc) {
    const slots = [];
    const park = (html) => '\u0000' + (slots.push(html) - 1) + '\u0000';
    let s = esc.replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g,
      (m, ticks, code) => park('<code>' + code.replace(/^ ([\s\S]*) $/, '$1') + '</code>'));
    s = s.replace(/\[([^\]\n\u0000]+)\]\((https?:\/\/[^\s)\u0000]+)\)/gi,
      (m, text, url) => park('<a href="' + url + '" target="_blank" rel="noopener noreferrer">') +
        text + park('</a>'));
    s = s.replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, '<strong>$1</strong>')
      .replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, '$1<strong>$2</strong>')
      .replace(/\*(?=[^\s*])([^*]*?[^\s*])\*/g, '<em>$1</em>')
      .replace(/\*(?=[^\s*])([^*])\*/g, '<em>$1</em>')
      .replace(/(^|[^\w])_(?=[^\s_])([^_]*?[^\s_]|[^\s_])_(?!\w)/g, '$1<em>$2</em>')
      .replace(/~~(?=\S)([\s\S]*?\S)~~/g, '<del>$1</del>');
    return s.replace(/\u0000(\d+)\u0000/g, (m, i) => slots[Number(i)]);
  }

  const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/;
  const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
  const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
  const QUOTE = /^ {0,3}&gt; ?(.*)$/;
  const BULLET = /^\s{0,3}[-*+]\s+(.*)$/;
  const NUMBERED = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
  const TABLE_RULE = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

  // The cells of a table row: "| a | b |" or "a | b"; "\|" stays in its cell.
  function cells(line) {
    const row = line.trim();
    const out = [''];
    for (let k = 0; k < row.length; k++) {
      if (row[k] === '\\' && row[k + 1] === '|') {
        out[out.length - 1] += '|';
        k++;
      } else if (row[k] === '|') {
        out.push('');
      } else {
        out[out.length - 1] += row[k];
      }
    }
    if (row.startsWith('|')) out.shift();
    if (row.endsWith('|') && !row.endsWith('\\|') && out.length > 1) out.pop();
    return out.map((c) => c.trim());
  }

  function blocks(lines, opts) {
    const out = [];
    let para = [];
    let list = null; // {tag, start, items}
    const flushPara = () => {
      if (para.length) out.push('<p>' + para.map(inline).join('<br>') + '</p>');
      para = [];
    };
    const flushList = () => {
      if (!list) return;
      const start = list.tag === 'ol' && list.start !== 1 ? ' start="' + list.start + '"' : '';
      out.push('<' + list.tag + start + '>' +
        list.items.map((it) => '<li>' + it.map(inline).join('<br>') + '</li>').join('') +
        '</' + list.tag + '>');
      list = null;
    };
    const flush = () => { flushPara(); flushList(); };

    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      let m;
      if ((m = FENCE.exec(line))) {
        flush();
        const close = new RegExp('^ {0,3}' + (m[1][0] === '`' ? '`' : '~') + '{' + m[1].length + ',}\\s*$');
        const body = [];
        // An unclosed fence (an answer still streaming) runs to the end.
        for (i++; i < lines.length && !close.test(lines[i]); i++) body.push(lines[i]);
        const lang = m[2];
        out.push('<div class="code-block"><div class="code-head"><span class="code-lang">' + lang +
          '</span><button type="button" class="copy-code">' + opts.copyLabel + '</button></div>' +
          '<pre><code' + (lang ? ' class="language-' + lang + '"' : '') + '>' + body.join('\n') +
          '</code></pre></div>');
      } else if (line.includes('|') && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1]) &&
                 cells(lines[i + 1]).length === cells(line).length) {
        flush();
        const head = cells(line);
        const align = cells(lines[i + 1]).map((c) =>
          (/^:-+:$/.test(c) ? 'center' : /-:$/.test(c) ? 'right' : /^:-/.test(c) ? 'left' : ''));
        const cell = (tag, text, k) => '<' + tag + (align[k] ? ' class="align-' + align[k] + '"' : '') + '>' +
          inline(text) + '</' + tag + '>';
        let html = '<div class="table-wrap"><table><thead><tr>' + head.map((c, k) => cell('th', c, k)).join('') +
          '</tr></thead><tbody>';
        for (i += 2; i < lines.length && lines[i].includes('|') && !/^\s*$/.test(lines[i]); i++) {
          const row = cells(lines[i]);
          html += '<tr>' + head.map((h, k) => cell('td', row[k] || '', k)).join('') + '</tr>';
        }
        i--;
        out.push(html + '</tbody></table></div>');
      } else if (/^\s*$/.test(line)) {
        flush();
      } else if ((m = HEADING.exec(line))) {
        flush();
        const n = m[1].length;
        out.push('<h' + n + '>' + inline(m[2]) + '</h' + n + '>');
      } else if (RULE.test(line)) {
        flush();
        out.push('<hr>');
      } else if (QUOTE.test(line)) {
        flush();
        const quoted = [];
        for (; i < lines.length && (m = QUOTE.exec(lines[i])); i++) quoted.push(m[1]);
        i--;
        out.push('<blockquote>' + blocks(quoted, opts) + '</blockquote>');
      } else if ((m = BULLET.exec(line)) || (m = NUMBERED.exec(line))) {
        flushPara();
        const tag = m.length === 3 ? 'ol' : 'ul';
        if (list && list.tag !== tag) flushList();
        if (!list) list = { tag, start: tag === 'ol' ? Number(m[1]) : 1, items: [] };
        list.items.push([m[m.length - 1]]);
      } else if (list && /^\s+\S/.test(line)) {
        list.items[list.items.length - 1].push(line.trim()); // an item's continuation line
      } else {
        flushList();
        para.push(line);
      }
    }
    flush();
    return out.join('');
  }

  /* render(text, {copyLabel}) -> HTML string, safe to assign to innerHTML. */
  function render(text, opts) {
    const o = { copyLabel: escapeHtml(String((opts && opts.copyLabel) || 'Copy')) };
    const clean = String(text == null ? '' : text).replace(/\u0000/g, '').replace(/\r\n?/g, '\n');
    return blocks(escapeHtml(clean).split('\n'), o);
  }

  global.LlmkitMarkdown = { render, escapeHtml };
})(typeof window !== 'undefined' ? window : globalThis);
