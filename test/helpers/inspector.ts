// A minimal Chrome DevTools Protocol client over the Node inspector's WebSocket, for tests that must look
// inside a child Gantry (started with --inspect=127.0.0.1:0): force a full GC, read process.memoryUsage().
// Node 20 has no WebSocket client, and the inspector only needs unfragmented text frames.
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface Inspector {
  call(method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Full GC, then process.memoryUsage() of the inspected process. */
  memoryAfterGc(): Promise<NodeJS.MemoryUsage>;
  close(): void;
}

/** The inspector's WebSocket URL from a child's stderr ("Debugger listening on ws://…"). */
export function inspectorUrl(stderr: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
}

export function openInspector(wsUrl: string, timeoutMs = 10_000): Promise<Inspector> {
  const url = new URL(wsUrl);
  return new Promise((resolve, reject) => {
    const sock: Socket = connect({ host: url.hostname, port: Number(url.port) });
    const pending = new Map<number, { ok: (v: Record<string, unknown>) => void; fail: (e: Error) => void }>();
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let nextId = 1;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('inspector: no handshake')); }, timeoutMs);
    const fail = (e: Error) => { for (const p of pending.values()) p.fail(e); pending.clear(); };
    sock.on('error', e => { clearTimeout(timer); reject(e); fail(e); });
    sock.on('close', () => fail(new Error('inspector: connection closed')));
    sock.on('connect', () => {
      sock.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    const send = (text: string) => {
      const payload = Buffer.from(text);
      const mask = randomBytes(4);
      const len = payload.length;
      const head = len < 126 ? Buffer.from([0x81, 0x80 | len]) : len < 65536 ? Buffer.from([0x81, 0x80 | 126, len >> 8, len & 255]) : (() => { const h = Buffer.alloc(10); h[0] = 0x81; h[1] = 0x80 | 127; h.writeBigUInt64BE(BigInt(len), 2); return h; })();
      for (let i = 0; i < len; i++) payload[i] ^= mask[i & 3];
      sock.write(Buffer.concat([head, mask, payload]));
    };
    const api: Inspector = {
      call: (method, params = {}) => new Promise((ok, no) => {
        const id = nextId++;
        pending.set(id, { ok, fail: no });
        send(JSON.stringify({ id, method, params }));
      }),
      async memoryAfterGc() {
        await api.call('HeapProfiler.collectGarbage');
        const r = await api.call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
        return JSON.parse(String((r.result as { value: string }).value)) as NodeJS.MemoryUsage;
      },
      close: () => sock.destroy(),
    };
    let message: Buffer[] = [];
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!/^HTTP\/1\.1 101/.test(buf.subarray(0, end).toString())) { clearTimeout(timer); sock.destroy(); reject(new Error(`inspector: ${buf.subarray(0, end).toString()}`)); return; }
        upgraded = true;
        buf = buf.subarray(end + 4);
        clearTimeout(timer);
        resolve(api);
      }
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1] & 127;
        let at = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); at = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); at = 10; }
        if (buf.length < at + len) return;
        const fin = (buf[0] & 0x80) !== 0;
        const opcode = buf[0] & 15;
        const payload = buf.subarray(at, at + len);
        buf = buf.subarray(at + len);
        if (opcode === 8) { sock.destroy(); return; }
        if (opcode !== 1 && opcode !== 0) continue; // pings and the like
        message.push(payload);
        if (!fin) continue;
        const msg = JSON.parse(Buffer.concat(message).toString()) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
        message = [];
        const p = msg.id === undefined ? undefined : pending.get(msg.id);
        if (!p) continue;
        pending.delete(msg.id!);
        if (msg.error) p.fail(new Error(`inspector: ${msg.error.message}`)); else p.ok(msg.result ?? {});
      }
    });
  });
}
