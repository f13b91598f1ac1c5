/**
 * Readiness: named gates that must all be open for `/readyz` to answer 200.
 *
 * Each part of the program owns one gate: the TLS listener (`listener`), a loaded serving certificate
 * (`certificate`), registration (`registration`), and shutdown (`draining`, closed on SIGTERM). A gate starts
 * closed when declared; `/readyz` lists the closed gates with their reasons so an operator sees what is missing.
 */
import { Context, Effect, Layer } from "effect"

export interface Gate {
  readonly ready: boolean
  readonly reason: string
}

export interface ReadinessShape {
  /** set opens or closes a gate, declaring it if new. */
  readonly set: (gate: string, ready: boolean, reason?: string) => Effect.Effect<void>
  /** check reports whether every gate is open, with the closed ones. */
  readonly check: Effect.Effect<{ readonly ready: boolean; readonly closed: ReadonlyArray<readonly [string, Gate]> }>
}

export class Readiness extends Context.Service<Readiness, ReadinessShape>()("flyte-pod-webhook/Readiness") {
  static readonly make = Effect.sync((): ReadinessShape => {
    const gates = new Map<string, Gate>()
    return {
      set: (gate, ready, reason = "") => Effect.sync(() => void gates.set(gate, { ready, reason })),
      check: Effect.sync(() => {
        const closed = [...gates].filter(([, g]) => !g.ready)
        return { ready: gates.size > 0 && closed.length === 0, closed }
      })
    }
  })

  static readonly layer = Layer.effect(Readiness, Readiness.make)
}
