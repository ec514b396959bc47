// Load generator of qr-login.bench.ts, run in a worker thread so the client
// does not share the server's event loop. Plain Node (not compiled by jest).
//
// workerData.mode:
// - 'get':   `concurrency` loops of back-to-back GETs of `path` on keep-alive
//            sockets for `durationMs`; counts 200s.
// - 'login': one loop per phone of complete QR logins (create → scan → confirm
//            → exchange) for `durationMs`; the latency of every step.
import { sign, createPrivateKey } from 'node:crypto';
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { mode, url, durationMs } = workerData;
const { hostname, port } = new URL(url);

/** One request; resolves with its status and body (text), never rejects. */
function send(agent, method, path, headers, body) {
  return new Promise((done) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        hostname,
        port,
        method,
        path,
        agent,
        headers: payload
          ? { ...headers, 'Content-Type': 'application/json', 'Content-Length': payload.length }
          : headers,
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => done({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', (error) => done({ status: 0, text: error.message }));
    req.end(payload);
  });
}

async function getLoad() {
  const { path, headers, concurrency } = workerData;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let ok = 0;
  let failed = 0;
  let firstFailure;
  const started = performance.now();
  const deadline = started + durationMs;
  const loop = async () => {
    while (performance.now() < deadline) {
      const res = await send(agent, 'GET', path, headers);
      if (res.status === 200) ok++;
      else {
        failed++;
        firstFailure ??= `${res.status} ${res.text.slice(0, 200)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return { ok, failed, firstFailure, elapsedMs };
}

const BROWSER_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36';
const PHONE_UA = 'ScanGate/1.0 (Android 15; Pixel 9)';

async function loginLoad() {
  const { phones } = workerData;
  const agent = new http.Agent({ keepAlive: true, maxSockets: phones.length * 2 });
  const steps = { create: [], scan: [], confirm: [], exchange: [] };
  let logins = 0;
  let failed = 0;
  let firstFailure;
  const started = performance.now();
  const deadline = started + durationMs;
  const timed = async (step, expected, ...args) => {
    const t0 = performance.now();
    const res = await send(agent, ...args);
    steps[step].push(performance.now() - t0);
    if (res.status !== expected) throw new Error(`${step}: ${res.status} ${res.text.slice(0, 200)}`);
    return res.text;
  };
  const flow = async (phone) => {
    const key = createPrivateKey(phone.privateKeyPem);
    const bearer = { Authorization: `Bearer ${phone.accessToken}`, 'User-Agent': PHONE_UA };
    while (performance.now() < deadline) {
      try {
        const qr = JSON.parse(
          await timed('create', 201, 'POST', '/api/v1/qr-sessions', { 'User-Agent': BROWSER_UA }, {}),
        );
        const base = `/api/v1/qr-sessions/${qr.id}`;
        await timed('scan', 200, 'POST', `${base}/scan`, bearer, {});
        const signature = sign('sha256', Buffer.from(`scangate:confirm:${qr.id}:${qr.matchCode ?? ''}`), {
          key,
          dsaEncoding: 'ieee-p1363',
        }).toString('base64url');
        await timed(
          'confirm',
          200,
          'POST',
          `${base}/confirm`,
          { ...bearer, 'X-Device-Signature': signature },
          qr.matchCode === undefined ? {} : { matchCode: qr.matchCode },
        );
        await timed(
          'exchange',
          200,
          'POST',
          `${base}/exchange`,
          { 'X-Poll-Token': qr.pollToken, 'User-Agent': BROWSER_UA },
          {},
        );
        logins++;
      } catch (error) {
        failed++;
        firstFailure ??= error.message;
      }
    }
  };
  await Promise.all(phones.map(flow));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return { logins, failed, firstFailure, elapsedMs, steps };
}

parentPort.postMessage(await (mode === 'login' ? loginLoad() : getLoad()));
