// Client side of the long-poll memory bench in qr-login.bench.ts, run as a
// child process: its sockets then count neither in the server's memory nor
// against the server process's file-descriptor limit. Plain Node.
//
// Parent → child (IPC): { type: 'open', port, polls: [{ path, headers }], batch },
//                        { type: 'close' } (destroys every socket), { type: 'exit' }.
// Child → parent:        'ready'; { type: 'opened', connected, errors, firstError, elapsedMs };
//                        { type: 'closed', early, firstEarly } (early: answers that came back
//                        before the close, which a waiting long poll must never give).
import net from 'node:net';

let sockets = [];
let early = 0;
let firstEarly;
let errors = 0;
let firstError;

function open(port, poll) {
  return new Promise((done) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      const headers = Object.entries(poll.headers ?? {})
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
      socket.write(`GET ${poll.path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${headers}Connection: keep-alive\r\n\r\n`);
      sockets.push(socket);
      done();
    });
    socket.once('data', (chunk) => {
      early++;
      firstEarly ??= chunk.toString('latin1').split('\r\n')[0];
    });
    socket.on('error', (error) => {
      errors++;
      firstError ??= error.message;
      done();
    });
  });
}

process.on('message', async (message) => {
  if (message.type === 'open') {
    const started = performance.now();
    const { port, polls, batch } = message;
    // In batches, so the listen backlog never overflows (a dropped SYN costs a 1 s retry).
    for (let i = 0; i < polls.length; i += batch)
      await Promise.all(polls.slice(i, i + batch).map((poll) => open(port, poll)));
    process.send({
      type: 'opened',
      connected: sockets.length,
      errors,
      firstError,
      elapsedMs: performance.now() - started,
    });
  } else if (message.type === 'close') {
    for (const socket of sockets) socket.destroy();
    process.send({ type: 'closed', early, firstEarly });
    sockets = [];
    early = errors = 0;
    firstEarly = firstError = undefined;
  } else if (message.type === 'exit') {
    process.exit(0);
  }
});
process.send({ type: 'ready' });
