// A pass-through HTTP proxy in front of `llmkit serve` that can hand SSE
// responses to the browser slowly, in small pieces cut at fixed byte counts
// (across events, lines and UTF-8 characters). The tiny test model answers
// in milliseconds; through this link a streamed answer takes long enough to
// watch it grow and to press Stop in the middle, on any machine.
//   const p = await startSlowProxy('http://127.0.0.1:PORT');
//   p.url; p.pace = { bytes: 53, ms: 3 } (or null: pass through); p.aborted
import http from 'node:http';

export function startSlowProxy(upstream) {
  const target = new URL(upstream);
  const proxy = { url: '', pace: null, aborted: 0 };
  const server = http.createServer((req, res) => {
    res.socket.setNoDelay(true);
    const up = http.request({
      host: target.hostname, port: target.port, method: req.method, path: req.url,
      headers: { ...req.headers, host: target.host },
    });
    let ended = false;
    let timer = null;
    // The browser went away (Stop): drop the upstream request too, as a
    // direct connection would, so the server sees the client leave.
    res.on('close', () => {
      clearInterval(timer);
      if (!ended) {
        proxy.aborted++;
        up.destroy();
      }
    });
    up.on('error', () => res.destroy());
    up.on('response', (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      const pace = proxy.pace;
      if (!pace || !/text\/event-stream/.test(ur.headers['content-type'] || '')) {
        ur.pipe(res);
        ur.on('end', () => { ended = true; });
        return;
      }
      let pending = Buffer.alloc(0);
      let upstreamDone = false;
      ur.on('data', (d) => { pending = Buffer.concat([pending, d]); });
      ur.on('end', () => { upstreamDone = true; });
      timer = setInterval(() => {
        if (pending.length) {
          res.write(pending.subarray(0, pace.bytes));
          pending = pending.subarray(pace.bytes);
        } else if (upstreamDone) {
          clearInterval(timer);
          ended = true;
          res.end();
        }
      }, pace.ms);
    });
    req.pipe(up);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      proxy.url = 'http://127.0.0.1:' + server.address().port;
      proxy.close = () => new Promise((r) => { server.closeAllConnections(); server.close(r); });
      resolve(proxy);
    });
  });
}
