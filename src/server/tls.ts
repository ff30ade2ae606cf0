// TLS on the same port, for the clients that speak gRPC only over TLS (gcloud's `logging tail`): a self-signed
// certificate for the loopback names, made once per data directory (`tls/cert.pem`, which clients trust as their CA,
// e.g. gcloud's `core/custom_ca_certs_file`), and ALPN choosing HTTP/2 (gRPC) or HTTP/1.1 inside. Beside it, a made-up
// service account key for the Google Node libraries (`gantry env`'s GOOGLE_APPLICATION_CREDENTIALS): they sign their
// own tokens with it and never ask Google for one; Gantry does not look at them unless --auth-token is set.
import { generateKeyPair, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { Server, type TLSSocket } from 'node:tls';

/** A client must finish its handshake within this time. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
const VALID_DAYS = 3650;
/** The Node libraries' credentials, beside the certificate. */
export const CREDENTIALS_FILE = 'client-credentials.json';
/**
 * The host names the Google Node libraries use for Gantry's APIs when `gantry env` sets their universe domain to
 * `localhost` (`clouddeploy.localhost`, reached through Gantry as their gRPC proxy). Named one by one: Node refuses a
 * wildcard over a single label (`*.localhost`).
 */
export const API_HOSTS = ['clouddeploy', 'run', 'logging', 'secretmanager', 'developerconnect', 'firebaseapphosting', 'storage'].map(a => `${a}.localhost`);

export class LocalTls {
  readonly certFile: string;
  /** The Node libraries' credentials (a service account key Gantry made up). */
  readonly credentialsFile: string;
  private keyFile: string;
  private pems?: Promise<{ key: Buffer; cert: Buffer }>;

  constructor(private dir: string, private hosts: string[] = []) {
    this.certFile = join(dir, 'cert.pem');
    this.keyFile = join(dir, 'key.pem');
    this.credentialsFile = join(dir, CREDENTIALS_FILE);
  }

  /** The key and certificate, made now when the data directory has none. */
  ready(): Promise<{ key: Buffer; cert: Buffer }> {
    this.pems ??= this.load();
    return this.pems;
  }

  private async load(): Promise<{ key: Buffer; cert: Buffer }> {
    const names = ['localhost', '*.localhost', ...API_HOSTS, ...this.hosts.filter(h => !/^[\d.:]+$/.test(h))];
    // A certificate made before a name was added (an older Gantry) is made again, at the same path.
    if (!existsSync(this.certFile) || !existsSync(this.keyFile) || !coversNames(readFileSync(this.certFile), names)) {
      const ips = ['127.0.0.1', '::1', ...this.hosts.filter(h => /^[\d.:]+$/.test(h) && h !== '0.0.0.0' && h !== '::')];
      // Loaded only to make a certificate: its X.509 libraries are start-up time otherwise spent for nothing.
      const { generate } = await import('selfsigned');
      const pems = await generate([{ name: 'commonName', value: 'Gantry local CA' }], {
        keyType: 'ec', curve: 'P-256', algorithm: 'sha256',
        notAfterDate: new Date(Date.now() + VALID_DAYS * 86_400_000),
        extensions: [
          // Its own CA: clients are given this one file to trust.
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
          { name: 'extKeyUsage', serverAuth: true },
          { name: 'subjectAltName', altNames: [...names.map(value => ({ type: 2 as const, value })), ...ips.map(ip => ({ type: 7 as const, ip }))] },
        ],
      });
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      writeFileSync(this.keyFile, pems.private, { mode: 0o600 });
      writeFileSync(this.certFile, pems.cert);
    }
    if (!existsSync(this.credentialsFile)) await writeCredentials(this.credentialsFile);
    return { key: readFileSync(this.keyFile), cert: readFileSync(this.certFile) };
  }

  /**
   * Terminates TLS on a connection whose ClientHello is unread in the socket; `take` gets the decrypted stream and
   * whether the client chose HTTP/2.
   */
  accept(socket: Socket, take: (secure: TLSSocket, http2: boolean) => void): void {
    this.server ??= this.ready().then(({ key, cert }) => {
      const server = new Server({ key, cert, ALPNProtocols: ['h2', 'http/1.1'], handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
      server.on('secureConnection', (secure: TLSSocket) => this.take?.(secure, secure.alpnProtocol === 'h2'));
      server.on('tlsClientError', (_e, s) => s.destroy());
      return server;
    });
    this.take = take;
    // TLS ends with close_notify, not half-closed TCP: a client that ends mid-handshake is gone (the listener's
    // sockets allow half-open ones, for HTTP/1).
    socket.allowHalfOpen = false;
    socket.once('end', () => socket.destroy());
    this.server.then(server => server.emit('connection', socket), () => socket.destroy());
  }

  private server?: Promise<Server>;
  private take?: (secure: TLSSocket, http2: boolean) => void;
}

function coversNames(pem: Buffer, names: string[]): boolean {
  try {
    const sans = new Set((new X509Certificate(pem).subjectAltName ?? '').split(', ').map(s => s.replace(/^DNS:/, '')));
    return names.every(n => sans.has(n));
  } catch {
    return false;
  }
}

/** A service account key file, as Google issues them, for an account that exists nowhere. */
async function writeCredentials(file: string): Promise<void> {
  const privateKey = await new Promise<string>((resolve, reject) => generateKeyPair('rsa', { modulusLength: 2048 }, (e, _pub, key) => (e ? reject(e) : resolve(key.export({ type: 'pkcs8', format: 'pem' }) as string))));
  writeFileSync(file, JSON.stringify({
    type: 'service_account', project_id: 'gantry-local', private_key_id: 'gantry', private_key: privateKey,
    client_email: 'gantry@gantry-local.iam.gserviceaccount.com', client_id: '100000000000000000000',
    // Never used (the libraries sign their own tokens for Gantry's APIs), and on this machine if it were.
    token_uri: 'http://127.0.0.1:9/token',
  }, null, 2) + '\n', { mode: 0o600 });
}
