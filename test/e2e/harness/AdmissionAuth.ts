/**
 * AdmissionAuth: the suite's kube-apiserver presents a client certificate when it calls one dedicated webhook
 * address, as docs/security.md tells operators to set it up: `--admission-control-config-file` with the files of
 * deploy/examples/admission/ (only their paths and the `users` entry's name changed), a client certificate signed
 * by a CA of its own (the webhook's `webhook.clientCAFile`).
 *
 * The control plane is shared by every test file, so the certificate must go to that one webhook only. For a
 * `url` registration the API server looks the `users` entry up by the URL's `host:port` exactly
 * (k8s.io/apiserver pkg/util/webhook/client.go, authentication.go); the kubeconfig has no `*` entry and no
 * current context, so every other webhook is called without credentials, as before. The port is reserved before
 * the API server starts, below the kernel's ephemeral range, so no outgoing connection takes it meanwhile; the
 * client-certificate scenario (client-auth.test.ts) registers its webhook at `https://127.0.0.1:<port>`.
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import * as YAML from "yaml"
import { issue, makeCa } from "./Pki.ts"
import { RepoRoot } from "./Tools.ts"

export interface WebhookClientAuth {
  /** The loopback port whose webhook (URL registration) gets the API server's client certificate. */
  readonly port: number
  /** PEM of the CA that signed the API server's client certificate: the webhook's `clientCAFile`. */
  readonly clientCaFile: string
  /** The client certificate's CN (for `webhook.clientNames`). */
  readonly clientName: string
  /** The API server's client certificate and key (a direct call with them must be served). */
  readonly certFile: string
  readonly keyFile: string
  /** A client certificate of another CA, with the same CN (a direct call with it must be refused). */
  readonly strangerCertFile: string
  readonly strangerKeyFile: string
}

const Examples = path.join(RepoRoot, "deploy", "examples", "admission")
export const ClientName = "e2e-kube-apiserver-admission"

const listenable = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = net.createServer()
    server.once("error", () => resolve(false))
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
  })

/** reservedPort: a free loopback port in 20000-32767, under Linux's default ephemeral range (32768-60999). */
const reservedPort = async (): Promise<number> => {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768)
    if (await listenable(port)) return port
  }
  throw new Error("no free loopback port in 20000-32767")
}

/**
 * prepareAdmissionAuth writes the admission configuration, its kubeconfig and the certificates into `dir`;
 * returns the file for `--admission-control-config-file` and what the client-certificate scenario needs.
 */
export const prepareAdmissionAuth = async (dir: string): Promise<{ readonly configFile: string; readonly auth: WebhookClientAuth }> => {
  fs.mkdirSync(dir, { recursive: true })
  const write = (name: string, text: string) => {
    const file = path.join(dir, name)
    fs.writeFileSync(file, text, { mode: 0o600 })
    return file
  }
  const port = await reservedPort()
  const clientCa = makeCa("e2e-webhook-client-ca")
  const client = issue(clientCa, { commonName: ClientName })
  const stranger = issue(makeCa("e2e-stranger-ca"), { commonName: ClientName })

  const kubeconfig = YAML.parse(fs.readFileSync(path.join(Examples, "webhook-kubeconfig.yaml"), "utf8"))
  const user = kubeconfig.users[0]
  user.name = `127.0.0.1:${port}`
  user.user["client-certificate"] = write("admission-client.crt", client.certPem)
  user.user["client-key"] = write("admission-client.key", client.keyPem)
  const kubeconfigFile = write("admission-kubeconfig.yaml", YAML.stringify(kubeconfig))

  const admission = YAML.parse(fs.readFileSync(path.join(Examples, "admission-configuration.yaml"), "utf8"))
  admission.plugins[0].configuration.kubeConfigFile = kubeconfigFile
  const configFile = write("admission-configuration.yaml", YAML.stringify(admission))

  return {
    configFile,
    auth: {
      port,
      clientCaFile: write("admission-client-ca.crt", clientCa.certPem),
      clientName: ClientName,
      certFile: user.user["client-certificate"],
      keyFile: user.user["client-key"],
      strangerCertFile: write("stranger-client.crt", stranger.certPem),
      strangerKeyFile: write("stranger-client.key", stranger.keyPem)
    }
  }
}
