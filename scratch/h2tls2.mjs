import net from 'node:net'; import tls from 'node:tls'; import http2 from 'node:http2';
import { mkdtempSync, readFileSync } from 'node:fs';
import { LocalTls } from '../dist/src/server/tls.js';
const dir = mkdtempSync('/tmp/tls-'); const t = new LocalTls(dir); const ctx = await t.ready();
const h2 = http2.createServer();
h2.on('stream', (s, h) => { console.log('stream', h[':path']); s.respond({ ':status': 200 }); s.end('ok'); });
const tlsServer = tls.createServer({ key: readFileSync(dir + '/key.pem'), cert: readFileSync(dir + '/cert.pem'), ALPNProtocols: ['h2', 'http/1.1'] }, secure => {
  console.log('secureConnection alpn', secure.alpnProtocol);
  h2.emit('connection', secure);
});
const srv = net.createServer(sock => {
  sock.once('data', d => { sock.pause(); sock.unshift(d); tlsServer.emit('connection', sock); });
});
srv.listen(0, '127.0.0.1', () => {
  const c = http2.connect(`https://localhost:${srv.address().port}`, { ca: readFileSync(dir + '/cert.pem') });
  c.on('error', e => console.log('client err', e.message));
  const r = c.request({ ':path': '/x' }); r.on('response', h => console.log('resp', h[':status'])); r.on('data', d => console.log('data', d.toString())); r.on('end', () => { console.log('done'); c.close(); srv.close(); process.exit(0); });
  setTimeout(() => { console.log('timeout'); process.exit(1); }, 3000);
});
