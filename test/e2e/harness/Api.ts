/**
 * Api: a small JSON client for the end-to-end tests, straight over HTTPS with a client certificate, so a test
 * sees exactly what the API server answers (status codes, Status messages, dry-run results) without a client
 * library in between. Only the suite's own calls go through it; the webhook uses its own KubeClient.
 */
import * as fs from "node:fs"
import * as https from "node:https"

/**
 * ApiJson: an object as the API server returns it. Deliberately untyped (`any`): the scenarios read back whole
 * stored Pods, Secrets and configurations and compare them field by field, so a typed model would only restate
 * the expectations.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ApiJson = any

export interface Identity {
  /** The user name the API server sees (the client certificate's CN). */
  readonly user: string
  readonly kubeconfig: string
  readonly certFile: string
  readonly keyFile: string
}

export interface Answer<A = ApiJson> {
  readonly status: number
  readonly body: A
}

export type Query = Readonly<Record<string, string>>

export interface RequestOptions {
  readonly body?: unknown
  readonly query?: Query
  readonly contentType?: string
  readonly timeoutMs?: number
}

/** ApiError: a non-2xx answer where the caller wanted success; carries the Status message. */
export class ApiError extends Error {
  readonly status: number
  readonly body: ApiJson
  constructor(method: string, path: string, answer: Answer) {
    super(`${method} ${path}: ${answer.status} ${typeof answer.body === "object" ? answer.body?.message ?? JSON.stringify(answer.body) : answer.body}`)
    this.status = answer.status
    this.body = answer.body
  }
}

export class Api {
  private readonly agent: https.Agent
  readonly server: string

  constructor(server: string, caFile: string, identity: Identity) {
    this.server = server
    this.agent = new https.Agent({
      ca: fs.readFileSync(caFile),
      cert: fs.readFileSync(identity.certFile),
      key: fs.readFileSync(identity.keyFile),
      keepAlive: true,
      maxSockets: 16
    })
  }

  /** request: one call; resolves with any status (transport errors reject). */
  request<A = any>(method: string, path: string, options: RequestOptions = {}): Promise<Answer<A>> {
    const url = new URL(path, this.server)
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value)
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          agent: this.agent,
          timeout: options.timeoutMs ?? 30_000,
          headers: {
            accept: "application/json",
            ...(payload === undefined
              ? {}
              : { "content-type": options.contentType ?? "application/json", "content-length": Buffer.byteLength(payload) })
          }
        },
        (res) => {
          const chunks: Array<Buffer> = []
          res.on("data", (chunk: Buffer) => chunks.push(chunk))
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8")
            let body: ApiJson = text
            try {
              body = text === "" ? undefined : JSON.parse(text)
            } catch {
              // not JSON (e.g. /healthz): keep the text
            }
            resolve({ status: res.statusCode ?? 0, body })
          })
          res.on("error", reject)
        }
      )
      req.on("timeout", () => req.destroy(new Error(`${method} ${url.pathname}: no answer within ${options.timeoutMs ?? 30_000} ms`)))
      req.on("error", reject)
      if (payload !== undefined) req.write(payload)
      req.end()
    })
  }

  /** ok: like request, but a non-2xx answer throws ApiError. */
  async ok<A = any>(method: string, path: string, options: RequestOptions = {}): Promise<A> {
    const answer = await this.request<A>(method, path, options)
    if (answer.status < 200 || answer.status > 299) throw new ApiError(method, path, answer)
    return answer.body
  }

  get<A = any>(path: string): Promise<A> {
    return this.ok<A>("GET", path)
  }

  /** createNamespace: a fresh namespace with labels (namespaces never finish deleting here: no controllers). */
  async createNamespace(name: string, labels: Readonly<Record<string, string>> = {}): Promise<void> {
    await this.ok("POST", "/api/v1/namespaces", {
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } }
    })
  }

  /** createPod: POST a Pod; `dryRun` asks for dryRun=All. Resolves with any status. */
  createPod(namespace: string, pod: unknown, options: { readonly dryRun?: boolean; readonly timeoutMs?: number } = {}) {
    return this.request("POST", `/api/v1/namespaces/${namespace}/pods`, {
      body: pod,
      ...(options.dryRun === true ? { query: { dryRun: "All" } } : {}),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
    })
  }

  close(): void {
    this.agent.destroy()
  }
}
