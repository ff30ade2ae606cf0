import net from 'node:net';
import tls from 'node:tls';
import { LocalTls } from '../dist/src/server/tls.js';
import { mkdtempSync, readFileSync } from 'node:fs';
const dir = mkdtempSync('/tmp/tls-');
const t = new LocalTls(dir);
const t0 = Date.now(); await t.ready(); console.log('cert in', Date.now() - t0, 'ms');
const srv = net.createServer(sock => {
  sock.once('data', d => {
    sock.pause(); sock.unshift(d);
    t.accept(sock, (secure, h2) => { console.log('alpn h2?', h2); secure.on('data', x => { console.log('server got', x.toString()); secure.end('pong'); }); });
  });
});
srv.listen(0, '127.0.0.1', () => {
  const c = tls.connect({ port: srv.address().port, host: '127.0.0.1', ca: readFileSync(dir + '/cert.pem'), ALPNProtocols: ['http/1.1'] }, () => { console.log('client secure, authorized', c.authorized); c.write('ping'); });
  c.on('data', d => { console.log('client got', d.toString()); c.end(); srv.close(); });
  c.on('error', e => { console.log('client error', e.message); srv.close(); });
});
