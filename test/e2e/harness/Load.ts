/**
 * Load: Pods created through the API server in a loop while something happens to the webhook (a rotation, a
 * SIGTERM), so a test can assert that no creation failed and every stored Pod carries the mutation. Each
 * worker creates one Pod at a time; every answer is recorded.
 */
import type { Api } from "./Api.ts"
import { sleep } from "./Wait.ts"
import type { ApiJson } from "./Api.ts"

export interface Outcome {
  readonly at: number
  readonly status: number
  readonly mutated: boolean
  readonly message: string
}

export class PodLoop {
  readonly outcomes: Array<Outcome> = []
  private running = true
  private readonly workers: Array<Promise<void>>

  /**
   * start: `concurrency` workers POST `pod()` into `namespace` until `stop`; `isMutated` judges the stored Pod.
   * `pauseMs` between creations keeps a 2-core machine responsive.
   */
  constructor(
    api: Api,
    namespace: string,
    pod: () => unknown,
    isMutated: (stored: ApiJson) => boolean,
    options: { readonly concurrency?: number; readonly pauseMs?: number } = {}
  ) {
    const worker = async () => {
      while (this.running) {
        const at = Date.now()
        try {
          const answer = await api.createPod(namespace, pod(), { timeoutMs: 40_000 })
          this.outcomes.push({
            at,
            status: answer.status,
            mutated: answer.status === 201 && isMutated(answer.body),
            message: answer.status === 201 ? "" : String(answer.body?.message ?? answer.body)
          })
        } catch (error) {
          this.outcomes.push({ at, status: 0, mutated: false, message: error instanceof Error ? error.message : String(error) })
        }
        await sleep(options.pauseMs ?? 20)
      }
    }
    this.workers = Array.from({ length: options.concurrency ?? 2 }, worker)
  }

  /** waitFor: until at least `count` more outcomes are recorded (or `timeoutMs`). */
  async waitFor(count: number, timeoutMs = 60_000): Promise<void> {
    const target = this.outcomes.length + count
    const deadline = Date.now() + timeoutMs
    while (this.outcomes.length < target && Date.now() < deadline) await sleep(50)
    if (this.outcomes.length < target) throw new Error(`only ${this.outcomes.length} of ${target} Pod creations answered within ${timeoutMs} ms`)
  }

  /** stop: let every worker finish its current creation. */
  async stop(): Promise<ReadonlyArray<Outcome>> {
    this.running = false
    await Promise.all(this.workers)
    return this.outcomes
  }

  /** failures: every creation that was refused, failed, or stored without the mutation. */
  static failures(outcomes: ReadonlyArray<Outcome>): ReadonlyArray<Outcome> {
    return outcomes.filter((o) => o.status !== 201 || !o.mutated)
  }
}
