/**
 * DoctorEndpoints: doctor's check 3. The Service the registration names has ready endpoints on the webhook's
 * port, read from its EndpointSlices (discovery.k8s.io/v1: an endpoint whose `conditions.ready` is unset
 * counts as ready). One ready replica is a warning: under failurePolicy Fail, its restart refuses Pods.
 *
 * A URL registration (`clientConfig.url`, webhook.webhookUrl) is called at that URL, not through a Service:
 * doctor then checks the Service `webhook.serviceName` only if it exists (for information) and otherwise
 * skips this check; the URL's reachability is check 2's handshake and check 5's dry run.
 */
import { Effect } from "effect"
import type { KubeClientShape } from "../kube/KubeClient.ts"
import type { EndpointSlice, MutatingWebhook, Service } from "../kube/KubeTypes.ts"
import type { WebhookConfigShape } from "../WebhookConfig.ts"
import { check, type CheckResult, fail, type Finding, pass, skip, unknown, warn } from "./DoctorReport.ts"

export const Title = "Service has ready endpoints on the webhook's port"

export interface EndpointFacts {
  readonly target: { readonly namespace: string; readonly name: string; readonly port: number }
  /** The registration uses clientConfig.url (this check is then informational). */
  readonly url: string | undefined
  readonly service: { readonly _tag: "Found"; readonly service: Service } | { readonly _tag: "Missing" } | { readonly _tag: "Unreadable"; readonly reason: string }
  readonly slices: ReadonlyArray<EndpointSlice> | { readonly unreadable: string }
}

/** readyAddresses: the ready endpoints' first addresses on the slice port named or numbered `targetPort`. */
export const readyAddresses = (slices: ReadonlyArray<EndpointSlice>, targetPort: number | string | undefined): ReadonlyArray<string> =>
  slices.flatMap((slice) => {
    const onPort = (slice.ports ?? []).some((p) => targetPort === undefined || p.name === targetPort || p.port === targetPort)
    if (!onPort) return []
    return (slice.endpoints ?? []).filter((e) => e.conditions?.ready !== false).map((e) => e.targetRef?.name ?? e.addresses[0] ?? "?")
  })

/** endpointFindings: check 3 over what was read. */
export const endpointFindings = (facts: EndpointFacts): ReadonlyArray<Finding> => {
  const { name, namespace, port } = facts.target
  const where = `Service ${namespace}/${name}`
  if (facts.service._tag === "Unreadable") return [unknown(`${where} not read: ${facts.service.reason}`, "grant get on services in that namespace (deploy/components/doctor)")]
  if (facts.service._tag === "Missing") {
    return facts.url === undefined
      ? [fail(`${where} not found: the API server has nowhere to send the calls`, "install the Service (deploy/base/service.yaml); its name must be webhook.serviceName")]
      : [skip(`URL registration (${facts.url}): the API server calls that URL, not a Service; reachability is checked by checks 2 and 5`)]
  }
  const servicePort = facts.service.service.spec?.ports?.find((p) => p.port === port)
  if (servicePort === undefined) {
    return [fail(`${where} has no port ${port} (the registration's port)`, "make the Service's port and webhook.servicePort agree")]
  }
  if ("unreadable" in facts.slices) return [unknown(`EndpointSlices of ${where} not read: ${facts.slices.unreadable}`, "grant list on endpointslices.discovery.k8s.io in that namespace (deploy/components/doctor)")]
  const ready = readyAddresses(facts.slices, servicePort.targetPort)
  const note = facts.url === undefined ? "" : ` (for information: the registration calls ${facts.url})`
  if (ready.length === 0) {
    return [fail(
      `${where}:${port} has no ready endpoint on target port ${String(servicePort.targetPort ?? port)}${note}`,
      "no replica is ready: check the Deployment's Pods and their /readyz (it names the gate that is closed: listener, certificate or registration); with failurePolicy Fail every labelled Pod is refused meanwhile"
    )]
  }
  const list = ready.join(", ")
  return ready.length === 1
    ? [warn(`${where}:${port} has 1 ready endpoint (${list})${note}`, "run two or more replicas: under failurePolicy Fail a single replica's restart refuses Pods")]
    : [pass(`${where}:${port} has ${ready.length} ready endpoints (${list})${note}`)]
}

/** endpointCheck: check 3 for the live webhook. */
export const endpointCheck = (
  kube: KubeClientShape,
  settings: WebhookConfigShape,
  webhook: MutatingWebhook | undefined
): Effect.Effect<CheckResult> =>
  Effect.gen(function*() {
    const service = webhook?.clientConfig.service
    const url = webhook?.clientConfig.url
    const target = {
      namespace: service?.namespace ?? settings.podNamespace,
      name: service?.name ?? settings.webhook.serviceName,
      port: service?.port ?? settings.webhook.servicePort
    }
    const found = yield* kube.getService(target.namespace, target.name).pipe(
      Effect.map((s): EndpointFacts["service"] => ({ _tag: "Found", service: s })),
      Effect.catch((e) =>
        Effect.succeed<EndpointFacts["service"]>(
          e._tag === "NotFound" ? { _tag: "Missing" } : { _tag: "Unreadable", reason: e._tag === "Forbidden" ? e.hint : e.message }
        )
      )
    )
    const slices = found._tag !== "Found"
      ? []
      : yield* kube.listEndpointSlices(target.namespace, target.name).pipe(
        Effect.catch((e) => Effect.succeed({ unreadable: e._tag === "Forbidden" ? e.hint : e.message }))
      )
    return check(3, Title, endpointFindings({ target, url, service: found, slices }))
  })
