/**
 * An HTTP server on 127.0.0.1 (a free port) for tests that point real clients at a stand-in for a remote
 * service: the AWS SDK through its endpoint setting, a download through its URL. Each request's body is read
 * whole before `handle` answers it; the tests' servers differ only in their answers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalEndpoint {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops listening and ends open connections (a request left unanswered on purpose included). */
  close(): Promise<void>;
}

export type LocalHandler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let b = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (b += d));
    req.on('end', () => resolve(b));
    req.on('error', reject);
  });
}

export async function startLocalEndpoint(handle: LocalHandler): Promise<LocalEndpoint> {
  const server = createServer((req, res) => {
    void readBody(req).then((body) => handle(req, body, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
