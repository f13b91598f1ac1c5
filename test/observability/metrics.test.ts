/**
 * The observability pack against a running webhook: the real CLI (`serve --embedded`, on free ports) answers
 * one review, then its /metrics is scraped; every metric any dashboard panel, dashboard variable or alert
 * expression uses must be one it exports (histograms count with their _bucket / _sum / _count series), or
 * `up`, which Prometheus itself records per scrape. Also: the chart's copies of the rules and the dashboard
 * are byte-identical to deploy/observability, and every selector in them names its metric with braces, so the
 * extraction below cannot miss one.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as YAML from "yaml"
import { probe, send } from "../http/support.ts"

const root = path.resolve(import.meta.dirname, "../..")
const pack = path.join(root, "deploy", "observability")
const chartCopy = path.join(root, "deploy", "helm", "flyte-pod-webhook", "files", "observability")

/** Metrics recorded by Prometheus itself, not exported by the webhook. */
const PrometheusOwn = new Set(["up"])

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

/** expressions: every PromQL expression and variable query of the dashboard and the rules. */
export const expressions = (): ReadonlyArray<{ readonly where: string; readonly expr: string }> => {
  const dashboard = JSON.parse(fs.readFileSync(path.join(pack, "dashboard.json"), "utf8"))
  const rules = YAML.parse(fs.readFileSync(path.join(pack, "prometheusrule.yaml"), "utf8"))
  return [
    ...dashboard.panels.flatMap((panel: { title: string; targets: Array<{ expr: string }> }) =>
      panel.targets.map((t) => ({ where: `panel "${panel.title}"`, expr: t.expr }))
    ),
    ...dashboard.templating.list
      .filter((v: { type: string }) => v.type === "query")
      .map((v: { name: string; definition: string }) => ({ where: `variable ${v.name}`, expr: v.definition })),
    ...rules.spec.groups.flatMap((group: { rules: Array<{ alert: string; expr: string }> }) =>
      group.rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr }))
    )
  ]
}

/** selectorNames: names directly followed by `{` or `[` (vector selectors; functions are followed by `(`). */
const selectorNames = (expr: string) => [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{[]/g)].map((m) => m[1]!)
const ourNames = (expr: string) => [...expr.matchAll(/\bflyte_pod_webhook_[a-z0-9_]+/g)].map((m) => m[0])

/** exported: metric names in a text exposition (families from `# TYPE`, histograms with their series). */
const exported = (text: string): ReadonlySet<string> => {
  const names = new Set<string>()
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!)
    if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${name}${suffix}`)
  }
  return names
}

describe("observability pack: every metric used exists", () => {
  let scraped = ""
  let child: ReturnType<typeof spawn> | undefined
  let output = ""
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-observability-"))

  beforeAll(async () => {
    const [port, probePort] = [await freePort(), await freePort()]
    fs.writeFileSync(path.join(work, "config.yaml"), [
      "webhook:",
      `  certDir: ${path.join(work, "certs")}`,
      "  listenAddress: 127.0.0.1",
      `  listenPort: ${port}`,
      `  probePort: ${probePort}`,
      "  secretManagerType: K8s",
      "  drainDelay: 0s",
      "secrets:",
      `  secrets-prefix: ${path.join(work, "none")}`,
      ""
    ].join("\n"))
    child = spawn(process.execPath, ["src/main.ts", "serve", "--embedded", "--config", path.join(work, "config.yaml")], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"]
    })
    child.stdout?.on("data", (c) => (output += c))
    child.stderr?.on("data", (c) => (output += c))
    for (let i = 0; ; i++) {
      const ready = await probe(probePort, "/readyz").catch(() => undefined)
      if (ready?.status === 200) break
      if (i > 300) throw new Error(`serve did not become ready:\n${output}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    const review = fs.readFileSync(path.join(root, "bench", "flyte-task-pod-review.json"), "utf8")
    const embeddedCa = fs.readFileSync(path.join(work, "certs", "ca.crt"), "utf8")
    assert.strictEqual((await send(port, "/mutate", review, { ca: embeddedCa })).status, 200)
    scraped = (await probe(probePort, "/metrics")).text
  })
  afterAll(() => {
    child?.kill("SIGTERM")
    fs.rmSync(work, { recursive: true, force: true })
  })

  it("the webhook exports families under flyte_pod_webhook_ (sanity of the scrape)", () => {
    assert.isAbove([...exported(scraped)].filter((n) => n.startsWith("flyte_pod_webhook_")).length, 8, scraped)
  })

  it.each(expressions())("$where", ({ expr }) => {
    const available = exported(scraped)
    const used = selectorNames(expr)
    assert.isAbove(used.length, 0, `no metric selector found in: ${expr}`)
    for (const name of used) {
      assert.isTrue(available.has(name) || PrometheusOwn.has(name), `${name} is not exported by the webhook (expr: ${expr})`)
    }
    // every flyte_pod_webhook_ name is used as a selector with braces, so none escaped the check above
    for (const name of ourNames(expr)) assert.include(used, name, `${name} used without a {…} selector: ${expr}`)
  })

  it("the chart's copies of the rules and the dashboard are byte-identical to deploy/observability", () => {
    for (const file of ["prometheusrule.yaml", "dashboard.json"]) {
      assert.strictEqual(
        fs.readFileSync(path.join(chartCopy, file), "utf8"),
        fs.readFileSync(path.join(pack, file), "utf8"),
        `cp deploy/observability/${file} deploy/helm/flyte-pod-webhook/files/observability/`
      )
    }
  })
})
