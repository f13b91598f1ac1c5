/**
 * Proxy: a stand-in for the webhook's Service. In URL mode the API server calls one address
 * (`webhook.webhookUrl`), but two replicas cannot listen on one port; in a cluster a Service spreads
 * connections over the ready endpoints. This TCP proxy listens on the registered port and hands each new
 * connection to the next replica, round robin (TLS passes through untouched: the API server still verifies the
 * webhook's own certificate). A replica that refuses a connection (its listener closed after SIGTERM's drain)
 * is dropped and the connection goes to the next one, as kube-proxy stops routing to an endpoint removed from
 * the Service. Connections already open stay with their replica until either side closes them.
 */
import * as net from "node:net"

export class RoundRobinProxy {
  private readonly server: net.Server
  private readonly sockets = new Set<net.Socket>()
  private backends: Array<number> = []
  private next = 0
  /** Connections handed to each backend port, for tests that check both replicas served. */
  readonly handed = new Map<number, number>()
  port = 0

  constructor() {
    this.server = net.createServer((client) => this.accept(client))
  }

  listen(port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject)
      this.server.listen(port, "127.0.0.1", () => {
        const address = this.server.address()
        this.port = typeof address === "object" && address !== null ? address.port : 0
        resolve(this.port)
      })
    })
  }

  add(port: number): void {
    if (!this.backends.includes(port)) this.backends.push(port)
  }

  remove(port: number): void {
    this.backends = this.backends.filter((p) => p !== port)
  }

  get backendPorts(): ReadonlyArray<number> {
    return this.backends
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.once("close", () => this.sockets.delete(socket))
  }

  private accept(client: net.Socket): void {
    this.track(client)
    // Nagle's algorithm off on both legs: kube-proxy forwards packets in the kernel and never holds one back,
    // while a user-space relay with Nagle on may hold a small segment until the previous one is acknowledged.
    client.setNoDelay(true)
    client.pause()
    client.on("error", () => client.destroy())
    this.connect(client, this.backends.length)
  }

  /** connect tries backends in turn, dropping any that refuses, until one accepts or none is left. */
  private connect(client: net.Socket, triesLeft: number): void {
    if (this.backends.length === 0 || triesLeft === 0 || client.destroyed) {
      client.destroy()
      return
    }
    const port = this.backends[this.next++ % this.backends.length]!
    const upstream = net.connect({ port, host: "127.0.0.1", noDelay: true })
    this.track(upstream)
    upstream.once("connect", () => {
      this.handed.set(port, (this.handed.get(port) ?? 0) + 1)
      upstream.on("error", () => client.destroy())
      // A clean close travels as a FIN after the data already piped (as through kube-proxy's NAT); only a
      // reset is passed on as a reset. Destroying at once could drop an answer still in the write buffer.
      client.on("close", (hadError) => (hadError ? upstream.destroy() : upstream.end()))
      upstream.on("close", (hadError) => (hadError ? client.destroy() : client.end()))
      client.pipe(upstream)
      upstream.pipe(client)
      client.resume()
    })
    upstream.once("error", (error: NodeJS.ErrnoException) => {
      if (upstream.connecting || error.code === "ECONNREFUSED") {
        if (error.code === "ECONNREFUSED") this.remove(port)
        this.connect(client, triesLeft - 1)
      }
    })
  }

  /** close stops listening and cuts every open connection. */
  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}
