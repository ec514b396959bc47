// The baseline of qr-login.bench.ts, in a process of its own like the server
// it is compared with: a bare Express 5 app with one JSON route. Plain Node.
// Listens on a random loopback port and sends { port } to its parent (IPC).
import express from 'express';

const app = express();
app.get('/x', (_req, res) => {
  res.json({ ok: true });
});
const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
