/**
 * Tracing: OpenTelemetry spans for admission requests, only when `webhook.otlpEndpoint` is set.
 *
 * Off (the default) the request path has no span at all: a span per request cut throughput markedly in our
 * measurements (docs/serve.md). On, each review runs in a server span whose parent is the API server's
 * `traceparent` (W3C trace context; B3 headers are read too), exported over OTLP/HTTP JSON to
 * `<otlpEndpoint>/v1/traces`.
 */
import { Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpSerialization, OtlpTracer } from "effect/observability"

/** tracingLayer installs the OTLP tracer, or nothing when no endpoint is configured. */
export const tracingLayer = (endpoint: string | undefined) =>
  endpoint === undefined
    ? Layer.empty
    : OtlpTracer.layer({
      url: `${endpoint.replace(/\/+$/, "")}/v1/traces`,
      resource: { serviceName: "flyte-pod-webhook" }
    }).pipe(Layer.provide([OtlpSerialization.layerJson, FetchHttpClient.layer]))
