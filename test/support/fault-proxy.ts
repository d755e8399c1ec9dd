/**
 * A fault-injecting HTTP proxy for tests: listens on 127.0.0.1, forwards every request to a backend (a
 * dynalite server, the fake AWS endpoint) and, on the calls a test chooses, plays a failure instead:
 *
 * - `throttle`: answer DynamoDB's `ProvisionedThroughputExceededException` (HTTP 400) without forwarding;
 * - `drop-response`: forward the request, wait for the backend's answer, then destroy the socket: the write
 *   happened, the caller sees a connection error (a response lost in transit);
 * - `kill`: fail this call and every later one without forwarding (the process died here); `heal()` ends it.
 *
 * Calls are named by their `X-Amz-Target` header (`DynamoDB_20120810.PutItem`), or by the form body's
 * `Action` for query-protocol services (SNS: `PublishBatch`), and counted per name. The SDK retries on its
 * own (throttles, dropped connections), and every attempt is a call here: tests that count "writes" count
 * what reached the proxy, attempts included.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault = 'throttle' | 'drop-response' | 'kill';

/** One call that reached the proxy. */
export interface ProxiedCall {
  /** `X-Amz-Target` (e.g. `DynamoDB_20120810.PutItem`), else the form's `Action`, else `METHOD path`. */
  readonly target: string;
  /** 1-based position among calls with this target. */
  readonly index: number;
  /** 1-based position among all calls. */
  readonly seq: number;
  /** The request body as text (JSON for DynamoDB, a form for SNS). */
  readonly body: string;
  /** What the proxy did with it. */
  fault?: Fault;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: point a client's `endpoint` here. */
  readonly endpoint: string;
  /** Every call so far, in arrival order. */
  readonly calls: readonly ProxiedCall[];
  /** Decides each call's fate; `undefined` (or no rule) forwards it. Replace it at any time. */
  rule: ((call: ProxiedCall) => Fault | undefined) | undefined;
  /** Whether a `kill` happened and has not been healed: every call fails. */
  readonly killed: boolean;
  /** Calls with this target so far (all calls without one). */
  count(target?: string): number;
  /** Forward again after a `kill` (a new process on the same network). */
  heal(): void;
  close(): Promise<void>;
}

/** DynamoDB's JSON-protocol target prefix. */
export const DYNAMODB_TARGET = 'DynamoDB_20120810.';
/** DynamoDB calls that write (what "kill at write k" counts). */
export const DYNAMODB_WRITES: ReadonlySet<string> = new Set(
  ['PutItem', 'DeleteItem', 'UpdateItem', 'BatchWriteItem', 'TransactWriteItems'].map((op) => DYNAMODB_TARGET + op),
);

const THROTTLE_BODY = JSON.stringify({
  __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  message: 'The level of configured provisioned throughput for the table was exceeded. (injected by the fault proxy)',
});

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function targetOf(req: IncomingMessage, body: string): string {
  const header = req.headers['x-amz-target'];
  if (typeof header === 'string' && header !== '') return header;
  if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    const action = new URLSearchParams(body).get('Action');
    if (action) return action;
  }
  return `${req.method ?? 'GET'} ${req.url ?? '/'}`;
}

/** Start a proxy on 127.0.0.1 (ephemeral port) in front of `backend` (`http://127.0.0.1:<port>`). */
export async function startFaultProxy(backend: string): Promise<FaultProxy> {
  const target = new URL(backend);
  const calls: ProxiedCall[] = [];
  const perTarget = new Map<string, number>();
  const sockets = new Set<Socket>();
  let killed = false;

  const forward = (
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const out = request(
        {
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host, 'content-length': String(body.length) },
        },
        (res) => {
          void readBody(res).then(
            (b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }),
            reject,
          );
        },
      );
      out.on('error', reject);
      out.end(body);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    const text = raw.toString('utf8');
    const name = targetOf(req, text);
    const index = (perTarget.get(name) ?? 0) + 1;
    perTarget.set(name, index);
    const call: ProxiedCall = { target: name, index, seq: calls.length + 1, body: text };
    calls.push(call);
    const fault = killed ? 'kill' : proxy.rule?.(call);
    if (fault) call.fault = fault;
    if (fault === 'kill') {
      killed = true;
      req.socket.destroy();
      return;
    }
    if (fault === 'throttle') {
      res.writeHead(400, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': `fault-proxy-${call.seq}`,
      });
      res.end(THROTTLE_BODY);
      return;
    }
    const answer = await forward(req, raw);
    if (fault === 'drop-response') {
      req.socket.destroy();
      return;
    }
    const headers = { ...answer.headers };
    delete headers['transfer-encoding'];
    res.writeHead(answer.status, { ...headers, 'content-length': String(answer.body.length) });
    res.end(answer.body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));

  const proxy: FaultProxy = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    rule: undefined,
    get killed() {
      return killed;
    },
    count(t?: string) {
      return t === undefined ? calls.length : (perTarget.get(t) ?? 0);
    },
    heal() {
      killed = false;
    },
    close() {
      return new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
    },
  };
  return proxy;
}

/** Whether a DynamoDB call writes (PutItem, DeleteItem, ...). */
export function isDynamoWrite(call: ProxiedCall): boolean {
  return DYNAMODB_WRITES.has(call.target);
}

/** The primary key a DynamoDB PutItem/DeleteItem names (its `pk` attribute), if any. */
export function dynamoKeyOf(call: ProxiedCall): string | undefined {
  try {
    const input = JSON.parse(call.body) as { Item?: { pk?: { S?: string } }; Key?: { pk?: { S?: string } } };
    return input.Item?.pk?.S ?? input.Key?.pk?.S;
  } catch {
    return undefined;
  }
}
