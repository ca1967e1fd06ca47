import { createServer } from "node:net";

/** Asks the OS for a port nobody listens on (0 → any free port; otherwise the preferred one if free). */
export async function freePort(host: string, preferred = 0): Promise<number> {
  try {
    return await listenOnce(host, preferred);
  } catch (error) {
    if (preferred === 0) throw error;
    return listenOnce(host, 0);
  }
}

function listenOnce(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address();
      const chosen = typeof address === "object" && address ? address.port : port;
      server.close(() => resolve(chosen));
    });
  });
}
