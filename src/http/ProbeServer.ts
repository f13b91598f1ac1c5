/**
 * ProbeServer: the plain-HTTP port for the kubelet and Prometheus (`webhook.probePort`, default 10254, the
 * port Flyte's webhook used for profiling). `GET /healthz`: the process answers. `GET /readyz`: 200 when every
 * readiness gate is open, else 503 listing the closed gates and why. `GET /metrics`: Prometheus text.
 */
import { Effect } from "effect"
import * as http from "node:http"
import type * as net from "node:net"
import type { Gate } from "../services/Readiness.ts"
import type { WebhookMetrics } from "./WebhookMetrics.ts"

export interface ProbeDeps {
  readonly readiness: () => { readonly ready: boolean; readonly closed: ReadonlyArray<readonly [string, Gate]> }
  readonly metrics: WebhookMetrics
}

const send = (res: http.ServerResponse, status: number, type: string, body: string) => {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body), "cache-control": "no-store" })
  res.end(body)
}

const json = (res: http.ServerResponse, status: number, value: unknown) =>
  send(res, status, "application/json", JSON.stringify(value))

/** probeHandler answers the three probe routes; anything else is 404, a non-GET/HEAD 405. */
export const probeHandler = (deps: ProbeDeps): http.RequestListener => (req, res) => {
  try {
    const url = req.url ?? "/"
    const q = url.indexOf("?")
    const path = q < 0 ? url : url.slice(0, q)
    if (path !== "/healthz" && path !== "/readyz" && path !== "/metrics") {
      return json(res, 404, { status: "Failure", reason: "NotFound", message: `no route ${path.slice(0, 200)}` })
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD")
      return json(res, 405, { status: "Failure", reason: "MethodNotAllowed", message: `use GET` })
    }
    if (path === "/healthz") return send(res, 200, "text/plain; charset=utf-8", "ok\n")
    if (path === "/metrics") return send(res, 200, "text/plain; version=0.0.4; charset=utf-8", deps.metrics.render())
    const { closed, ready } = deps.readiness()
    if (ready) return json(res, 200, { ready: true })
    return json(res, 503, { ready: false, closed: Object.fromEntries(closed.map(([name, g]) => [name, g.reason])) })
  } catch (cause) {
    json(res, 500, { status: "Failure", reason: "InternalError", message: String(cause) })
  }
}

/** createProbeServer builds (does not start) the probe server. */
export const createProbeServer = (deps: ProbeDeps): http.Server => {
  const server = http.createServer({ keepAliveTimeout: 65_000, headersTimeout: 10_000, requestTimeout: 15_000 }, probeHandler(deps))
  server.on("clientError", (_error, socket) => socket.destroy())
  return server
}

/** ProbeListenError: the probe port could not bind. */
export interface ProbeListenError {
  readonly address: string
  readonly reason: string
}

/** listen binds a server and returns the bound port (useful with port 0). */
export const listen = (server: net.Server, port: number, host: string): Effect.Effect<number, ProbeListenError> =>
  Effect.callback<number, ProbeListenError>((resume) => {
    const onError = (error: Error) => {
      server.off("listening", onListening)
      resume(Effect.fail({ address: `${host}:${port}`, reason: error.message }))
    }
    const onListening = () => {
      server.off("error", onError)
      resume(Effect.succeed((server.address() as net.AddressInfo).port))
    }
    server.once("error", onError)
    server.once("listening", onListening)
    server.listen(port, host)
  })

/**
 * closeGracefully stops accepting, closes idle keep-alive sockets and waits for open requests to finish; past
 * `timeoutMs` it closes every connection.
 */
export const closeGracefully = (server: http.Server, timeoutMs: number): Effect.Effect<boolean> =>
  Effect.callback<boolean>((resume) => {
    const timer = setTimeout(() => {
      server.closeAllConnections()
      resume(Effect.succeed(false))
    }, timeoutMs)
    server.close(() => {
      clearTimeout(timer)
      resume(Effect.succeed(true))
    })
    server.closeIdleConnections()
  })
