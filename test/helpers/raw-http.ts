// A raw HTTP/1.1 client over node:net, for requests fetch/undici refuse to send (broken framing, bad
// headers, garbage methods) and for seeing exactly what came back, including a server that closes or stalls.
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  reason: string;
  headers: [string, string][];
  body: Buffer;
}

export interface RawResult {
  /** Final (non-1xx) responses in the order received. */
  responses: RawResponse[];
  /** The server ended or reset the connection (before the timeout). */
  closed: boolean;
  reset: boolean;
  /** Nothing listened on the port. */
  refused?: boolean;
  /** Neither all expected responses plus a close, nor a close, arrived in time. */
  timedOut: boolean;
  /** Bytes that did not parse as an HTTP response (the response was malformed). */
  garbage?: string;
  /** With `raw`: the first bytes that came back, unparsed. */
  firstBytes?: Buffer;
  ms: number;
}

export interface RawOptions {
  port: number;
  host?: string;
  /** What to write; several buffers are written with `gapMs` between them (split framing). */
  chunks: Buffer[];
  gapMs?: number;
  /** Per expected response: whether it answers a HEAD request (no body follows its headers). */
  heads: boolean[];
  /** Half-close after writing: for requests that are incomplete on purpose. */
  halfClose?: boolean;
  /** Resolve once this many responses are complete instead of waiting for the server's close. */
  resolveAfter?: number;
  /** Not HTTP/1 (an HTTP/2 exchange): keep the first bytes instead of parsing responses. */
  raw?: boolean;
  timeoutMs: number;
}

export function header(r: RawResponse, name: string): string | undefined {
  const n = name.toLowerCase();
  return r.headers.find(h => h[0].toLowerCase() === n)?.[1];
}

/** Sends raw bytes, collects every response until the server closes, a timeout, or `resolveAfter` responses. */
export function rawExchange(o: RawOptions): Promise<RawResult> {
  return new Promise(resolve => {
    const start = performance.now();
    const responses: RawResponse[] = [];
    // Received bytes not yet parsed: store[off, off + len). Grown by doubling, never concatenated per chunk:
    // a response can be megabytes in 64 KB reads. Parsed bodies stay views into it, so it is never rewritten.
    let store = Buffer.allocUnsafe(65536);
    let off = 0;
    let len = 0;
    let done = false;
    let garbage: string | undefined;
    const sock = connect({ port: o.port, host: o.host ?? '127.0.0.1' });
    sock.setNoDelay(true);
    let refused = false;
    const finish = (closed: boolean, reset: boolean, timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if ((closed || reset) && !o.raw) parse(true);
      sock.destroy();
      const firstBytes = o.raw ? Buffer.from(store.subarray(off, off + Math.min(len, 64))) : undefined;
      resolve({ responses, closed, reset, refused, timedOut, garbage, firstBytes, ms: performance.now() - start });
    };
    const timer = setTimeout(() => finish(false, false, true), o.timeoutMs);

    // Parses as many complete responses as `buf` holds; at EOF a close-delimited body ends there.
    const parse = (eof: boolean) => {
      let buf = store.subarray(off, off + len);
      try { parseFrom(eof); } finally {
        off = buf.byteOffset - store.byteOffset; // `buf` is always a view into `store`, possibly empty
        len = buf.length;
      }
      function parseFrom(eof: boolean) {
        while (!garbage && buf.length) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) {
            if (eof) garbage = `incomplete response head: ${JSON.stringify(buf.subarray(0, 200).toString('latin1'))}`;
            return;
          }
          const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
          const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]);
          if (!m) { garbage = `bad status line: ${JSON.stringify(lines[0].slice(0, 200))}`; return; }
          const status = Number(m[1]);
          const headers: [string, string][] = [];
          for (const l of lines.slice(1)) {
            const c = l.indexOf(':');
            if (c <= 0) { garbage = `bad header line: ${JSON.stringify(l.slice(0, 200))}`; return; }
            headers.push([l.slice(0, c).trim(), l.slice(c + 1).trim()]);
          }
          const r: RawResponse = { status, reason: m[2] ?? '', headers, body: Buffer.alloc(0) };
          let rest = buf.subarray(end + 4);
          if (status >= 100 && status < 200 && status !== 101) { buf = rest; continue; } // interim (100 Continue)
          const isHead = o.heads[responses.length] ?? false;
          const te = header(r, 'transfer-encoding');
          const cl = header(r, 'content-length');
          if (isHead || status === 204 || status === 304) {
            // no body
          } else if (te && /chunked/i.test(te)) {
            const parts: Buffer[] = [];
            let at = 0;
            for (;;) {
              const eol = rest.indexOf('\r\n', at);
              if (eol < 0) { if (eof) garbage = 'truncated chunked body'; return; }
              const size = parseInt(rest.subarray(at, eol).toString('latin1'), 16);
              if (!Number.isFinite(size)) { garbage = 'bad chunk size'; return; }
              if (size === 0) {
                const tEnd = rest.indexOf('\r\n', eol + 2); // no trailers expected: "0\r\n\r\n"
                if (tEnd < 0) { if (eof) garbage = 'truncated chunked body'; return; }
                rest = rest.subarray(tEnd + 2);
                break;
              }
              if (rest.length < eol + 2 + size + 2) { if (eof) garbage = 'truncated chunked body'; return; }
              parts.push(rest.subarray(eol + 2, eol + 2 + size));
              at = eol + 2 + size + 2;
            }
            r.body = Buffer.concat(parts);
          } else if (cl !== undefined) {
            const n = Number(cl);
            if (!Number.isInteger(n) || n < 0) { garbage = `bad content-length ${cl}`; return; }
            if (rest.length < n) { if (eof) garbage = `body shorter than content-length ${cl}`; return; }
            r.body = rest.subarray(0, n);
            rest = rest.subarray(n);
          } else {
            if (!eof) return; // close-delimited
            r.body = rest;
            rest = rest.subarray(rest.length);
          }
          responses.push(r);
          buf = rest;
          if (o.resolveAfter !== undefined && responses.length >= o.resolveAfter) { finish(false, false, false); return; }
        }
      }
    };

    sock.on('data', (d: Buffer) => {
      if (off + len + d.length > store.length) {
        const next = Buffer.allocUnsafe(Math.max(2 * (len + d.length), 65536));
        store.copy(next, 0, off, off + len);
        store = next;
        off = 0;
      }
      d.copy(store, off + len);
      len += d.length;
      if (!o.raw) parse(false);
    });
    sock.on('end', () => finish(true, false, false));
    sock.on('close', () => finish(true, false, false));
    sock.on('error', (e: NodeJS.ErrnoException) => { refused = e.code === 'ECONNREFUSED'; finish(false, e.code === 'ECONNRESET' || e.code === 'EPIPE', false); });
    sock.once('connect', async () => {
      for (let i = 0; i < o.chunks.length && !done; i++) {
        if (i > 0 && o.gapMs) await new Promise(r => setTimeout(r, o.gapMs));
        if (!done && sock.writable) sock.write(o.chunks[i]);
      }
      if (o.halfClose && !done && sock.writable) sock.end();
    });
  });
}
