// Browsers of realtime.bench.ts, run as a child process: their sockets count
// neither in the server's memory and CPU nor against its file descriptors.
// Plain Node.
//
// Parent → child (IPC):
//   { type: 'sockets', url, namespace, auths: [auth…], batch }  opens one websocket-only
//       Socket.IO client per auth, `batch` handshakes at a time; each waits for its first event;
//   { type: 'poll', url, polls: [{ path, headers }], intervalMs, durationMs }  each poll
//       GETs its path every intervalMs (keep-alive, spread evenly) for durationMs;
//   { type: 'close' }  closes every socket; { type: 'exit' }.
// Child → parent: 'ready'; { type: 'opened', connected, errors, firstError, elapsedMs };
//   { type: 'polled', ok, failed, firstFailure }; { type: 'closed' }.
import http from 'node:http';
import { io } from 'socket.io-client';

let sockets = [];

async function openSockets({ url, namespace, auths, batch }) {
  const started = performance.now();
  let connected = 0;
  let errors = 0;
  let firstError;
  const one = (auth) =>
    new Promise((done) => {
      const socket = io(`${url}${namespace}`, {
        path: '/socket.io',
        auth,
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        timeout: 20_000,
      });
      sockets.push(socket);
      // Counted once the server has sent its first event (the status): the socket is fully set up.
      socket.once('qr.status', () => {
        connected++;
        done();
      });
      socket.once('ready', () => {
        connected++;
        done();
      });
      socket.once('connect_error', (error) => {
        errors++;
        firstError ??= error.message;
        done();
      });
    });
  for (let i = 0; i < auths.length; i += batch) await Promise.all(auths.slice(i, i + batch).map(one));
  return { type: 'opened', connected, errors, firstError, elapsedMs: performance.now() - started };
}

async function poll({ url, polls, intervalMs, durationMs }) {
  const { hostname, port } = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: polls.length });
  let ok = 0;
  let failed = 0;
  let firstFailure;
  const deadline = performance.now() + durationMs;
  const get = (p) =>
    new Promise((done) => {
      const req = http.request({ hostname, port, path: p.path, headers: p.headers, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) ok++;
          else {
            failed++;
            firstFailure ??= String(res.statusCode);
          }
          done();
        });
      });
      req.on('error', (error) => {
        failed++;
        firstFailure ??= error.message;
        done();
      });
      req.end();
    });
  await Promise.all(
    polls.map(async (p, i) => {
      // Spread the first polls over one interval, as real browsers would be.
      await new Promise((r) => setTimeout(r, (i * intervalMs) / polls.length));
      while (performance.now() < deadline) {
        const started = performance.now();
        await get(p);
        await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (performance.now() - started))));
      }
    }),
  );
  agent.destroy();
  return { type: 'polled', ok, failed, firstFailure };
}

process.on('message', async (message) => {
  if (message.type === 'sockets') process.send(await openSockets(message));
  else if (message.type === 'poll') process.send(await poll(message));
  else if (message.type === 'close') {
    for (const socket of sockets) socket.close();
    sockets = [];
    process.send({ type: 'closed' });
  } else if (message.type === 'exit') process.exit(0);
});
process.send('ready');
