import net from 'node:net'; import tls from 'node:tls'; import http2 from 'node:http2';
import { LocalTls } from '../dist/src/server/tls.js';
import { mkdtempSync, readFileSync } from 'node:fs';
const dir = mkdtempSync('/tmp/tls-'); const t = new LocalTls(dir); await t.ready();
const h2 = http2.createServer();
h2.on('stream', (s, h) => { console.log('stream', h[':path']); s.respond({ ':status': 200 }); s.end('ok'); });
h2.on('sessionError', e => console.log('sessionError', e.message));
const mode = process.argv[2];
const srv = net.createServer(sock => {
  sock.once('data', d => { sock.pause(); sock.unshift(d);
    t.accept(sock, (secure, isH2) => { console.log('secure; h2', isH2, 'readableLength', secure.readableLength);
h2.emit('connection', secure); }); });
});
srv.listen(0, '127.0.0.1', () => {
  const c = http2.connect(`https://localhost:${srv.address().port}`, { ca: readFileSync(dir + '/cert.pem') });
  c.on('error', e => console.log('client err', e.message));
  const r = c.request({ ':path': '/x' }); r.on('response', h => console.log('resp', h[':status'])); r.on('data', d => console.log('data', d.toString())); r.on('end', () => { c.close(); srv.close(); });
  setTimeout(() => { console.log('timeout'); process.exit(1); }, 3000);
});
