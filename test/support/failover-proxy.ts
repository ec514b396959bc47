import net from 'node:net';

/**
 * A TCP front for several servers, as a load balancer with health-based
 * failover would be: each new connection goes to the first target that
 * accepts it, in order. Kill the first server and new connections (a
 * reconnecting socket) land on the next one.
 */
export interface FailoverProxy {
  url: string;
  /** Which target each accepted connection went to, in order. */
  routed: number[];
  close(): Promise<void>;
}

export async function failoverProxy(targetPorts: number[]): Promise<FailoverProxy> {
  const routed: number[] = [];
  const open = new Set<net.Socket>();
  const connectTo = (port: number) =>
    new Promise<net.Socket>((resolve, reject) => {
      const upstream = net.connect({ host: '127.0.0.1', port });
      upstream.once('connect', () => resolve(upstream));
      upstream.once('error', reject);
    });
  const server = net.createServer(async (client) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    client.pause();
    for (const port of targetPorts) {
      try {
        const upstream = await connectTo(port);
        open.add(upstream);
        upstream.once('close', () => open.delete(upstream));
        routed.push(port);
        client.pipe(upstream).pipe(client);
        const end = () => {
          client.destroy();
          upstream.destroy();
        };
        client.once('error', end);
        upstream.once('error', end);
        client.once('close', end);
        upstream.once('close', end);
        client.resume();
        return;
      } catch {
        // this one is down: try the next
      }
    }
    client.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    routed,
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
