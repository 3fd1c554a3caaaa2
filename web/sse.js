'use strict';
/* Server-sent events read from a fetch body. feed() takes decoded text in
 * pieces of any size (network chunks split events, lines, even a CR LF pair)
 * and returns the data of every event completed so far; end() flushes what
 * is left when the body ends. */
(function (global) {
  class SseParser {
    constructor() {
      this.buf = '';
      this.data = [];
    }

    feed(text) {
      this.buf += text;
      const events = [];
      for (;;) {
        const m = /\r\n|\r|\n/.exec(this.buf);
        if (!m) break;
        if (m[0] === '\r' && m.index === this.buf.length - 1) break; // maybe half of CR LF
        const line = this.buf.slice(0, m.index);
        this.buf = this.buf.slice(m.index + m[0].length);
        this.line(line, events);
      }
      return events;
    }

    end() {
      const events = [];
      if (this.buf !== '') this.line(this.buf, events);
      this.buf = '';
      this.line('', events); // a last event without its blank line still counts
      return events;
    }

    line(line, events) {
      if (line === '') {
        if (this.data.length) events.push(this.data.join('\n'));
        this.data = [];
        return;
      }
      if (line[0] === ':') return; // comment (keep-alive)
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value[0] === ' ') value = value.slice(1);
      if (field === 'data') this.data.push(value);
    }
  }

  global.LlmkitSse = { SseParser };
})(typeof window !== 'undefined' ? window : globalThis);
