// A certificate for the standalone Danal sandbox's https, made with the
// openssl command line: a small certificate authority of its own and a server
// certificate it signs for the sandbox's host names. The service trusts the
// sandbox through Node's standard NODE_EXTRA_CA_CERTS=<ca.pem>, exactly as it
// trusts real Danal through the system's authorities: no code path of the
// service knows the sandbox is not Danal.
//
// The files are kept in one directory and reused while they are valid, so the
// CA path stays the same across restarts; several processes starting at once
// take turns through a lock directory.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';

export interface SandboxTls {
  /** The certificate authority to give the service as NODE_EXTRA_CA_CERTS. */
  caFile: string;
  cert: string;
  key: string;
}

const RENEW_BEFORE_MS = 7 * 24 * 3600_000;

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`openssl ${args[0]} failed${stderr ? `: ${stderr}` : ''} (the sandbox's https needs the openssl command)`, { cause: error });
  }
}

/** Valid for at least a week more, and (for the server certificate) issued by `ca` for every host. */
function usable(file: string, hosts: string[], ca?: X509Certificate): boolean {
  if (!existsSync(file)) return false;
  try {
    const cert = new X509Certificate(readFileSync(file));
    if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return false;
    if (!ca) return cert.ca;
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
    return hosts.every((host) => (isIP(host) ? cert.checkIP(host) : cert.checkHost(host)) !== undefined);
  } catch {
    return false;
  }
}

function withLock<T>(lockDir: string, work: () => T): T {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock left by a process that died while generating.
      if (Date.now() - statSync(lockDir, { throwIfNoEntry: false })!.mtimeMs > 30_000) rmSync(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`${lockDir} is held by another process`, { cause: error });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    return work();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/** The sandbox's CA and server certificate in `dir` for `hosts`, made or renewed with openssl when needed. */
export function ensureSandboxTls(dir: string, hosts: string[]): SandboxTls {
  const absolute = path.resolve(dir);
  mkdirSync(absolute, { recursive: true, mode: 0o700 });
  const files = { ca: path.join(absolute, 'ca.pem'), caKey: path.join(absolute, 'ca.key'), cert: path.join(absolute, 'server.pem'), key: path.join(absolute, 'server.key') };
  const caOf = () => new X509Certificate(readFileSync(files.ca));
  const ready = () => usable(files.ca, hosts) && existsSync(files.key) && usable(files.cert, hosts, caOf());

  if (!ready()) {
    withLock(`${absolute}.lock`, () => {
      if (ready()) return; // made by another process meanwhile
      if (!usable(files.ca, hosts) || !existsSync(files.caKey)) {
        openssl(
          ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650',
            '-subj', '/CN=DPOT Pay Danal sandbox CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
          absolute,
        );
      }
      const names = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
      writeFileSync(path.join(absolute, 'server.ext'), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${names}\n`);
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key.new', '-out', 'server.csr', '-subj', `/CN=${hosts[0]}`], absolute);
      openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', `0x${Date.now().toString(16)}`, '-days', '825', '-extfile', 'server.ext', '-out', 'server.pem.new'], absolute);
      // Other processes read the files only once ready() holds, which the old ones did not.
      for (const name of ['server.key', 'server.pem']) writeFileSync(path.join(absolute, name), readFileSync(path.join(absolute, `${name}.new`)), { mode: 0o600 });
      for (const name of ['server.key.new', 'server.pem.new', 'server.csr', 'server.ext']) rmSync(path.join(absolute, name), { force: true });
    });
  }
  return { caFile: files.ca, cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') };
}
