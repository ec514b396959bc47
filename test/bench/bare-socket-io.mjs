// The baseline of realtime.bench.ts's latency figure, in a process of its own
// like the server it is compared with: Express 5 and Socket.IO with nothing
// else. Namespace /qr: a socket joins the room of `auth.id` and is sent a
// status at once; `POST /emit/:id` emits a status to that room and answers.
// So "request → event on the browser's socket" is measured on both sides.
// Sends { port } to its parent (IPC).
import express from 'express';
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const app = express();
const server = createServer(app);
const io = new Server(server, { path: '/socket.io', serveClient: false });
const qr = io.of('/qr');
qr.on('connection', (socket) => {
  const id = String(socket.handshake.auth?.id ?? '');
  socket.join(id);
  socket.emit('qr.status', { id, status: 'scanned', version: 2, expiresAt: new Date().toISOString() });
});
app.post('/emit/:id', (req, res) => {
  qr.to(req.params.id).emit('qr.status', {
    id: req.params.id,
    status: 'confirmed',
    version: 3,
    expiresAt: new Date().toISOString(),
  });
  res.json({ status: 'confirmed' });
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
