/**
 * HandshakeProbe: what a new API-server connection would see at any moment of a rotation. The API server
 * keeps its TLS connections to a webhook open and reuses them, so a Pod loop alone can miss a window in which
 * the served certificate is not trusted by the published caBundle (a connection made then, by a restarted or
 * another API server, would fail). The probe repeatedly reads the caBundle registered in the webhook
 * configuration and makes a fresh TLS handshake to the webhook's URL trusting exactly that bundle, verifying
 * the host name as the API server does (the URL's host, 127.0.0.1), and records every failure.
 */
import * as tls from "node:tls"
import type { Api } from "./Api.ts"
import { sleep } from "./Wait.ts"

export interface ProbeFailure {
  readonly at: number
  readonly reason: string
}

const handshake = (port: number, ca: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: "127.0.0.1", ca, rejectUnauthorized: true }, () => {
      socket.end()
      resolve()
    })
    socket.setTimeout(5_000, () => socket.destroy(new Error("handshake timed out")))
    socket.once("error", reject)
  })

export class HandshakeProbe {
  readonly failures: Array<ProbeFailure> = []
  handshakes = 0
  private running = true
  private readonly loop: Promise<void>

  constructor(api: Api, configurationName: string, port: number, intervalMs = 100) {
    this.loop = (async () => {
      while (this.running) {
        const at = Date.now()
        try {
          const live = await api.get(`/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${configurationName}`)
          await handshake(port, Buffer.from(live.webhooks[0].clientConfig.caBundle, "base64").toString("utf8"))
          this.handshakes++
        } catch (error) {
          this.failures.push({ at, reason: error instanceof Error ? error.message : String(error) })
        }
        await sleep(intervalMs)
      }
    })()
  }

  async stop(): Promise<void> {
    this.running = false
    await this.loop
  }
}
