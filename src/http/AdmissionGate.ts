/**
 * AdmissionGate: bounded concurrency for the admission path. At most `maxInFlight` requests are in work and
 * at most `maxQueue` wait (first come, first served); past that a request is refused at once so the caller
 * (the API server, which sets no rate limit of its own) gets a fast answer instead of an unbounded queue.
 *
 * Plain synchronous code on purpose: it runs once per request on the hot path, before any Effect.
 */

/** A ticket in the gate: `start` runs when a slot is free; `cancel` withdraws a waiting ticket. */
export interface Ticket {
  /** Withdraws the ticket if it is still waiting (deadline passed, client gone); no-op once started. */
  readonly cancel: () => void
}

export interface GateStats {
  readonly inFlight: number
  readonly queued: number
}

/** GatePeaks: the most requests seen in work and waiting at once since start (sizing maxInFlight/maxQueue). */
export interface GatePeaks {
  readonly inFlight: number
  readonly queued: number
}

export class AdmissionGate {
  readonly maxInFlight: number
  readonly maxQueue: number
  private running = 0
  private readonly waiting: Array<(release: () => void) => void> = []
  private peakRunning = 0
  private peakWaiting = 0

  constructor(maxInFlight: number, maxQueue: number) {
    this.maxInFlight = maxInFlight
    this.maxQueue = maxQueue
  }

  get stats(): GateStats {
    return { inFlight: this.running, queued: this.waiting.length }
  }

  get peaks(): GatePeaks {
    return { inFlight: this.peakRunning, queued: this.peakWaiting }
  }

  /**
   * enter runs `start` now or when a slot frees; `start` receives the release function, to call exactly once
   * when the work ends. Returns undefined when the gate is full (the request must be refused).
   */
  enter(start: (release: () => void) => void): Ticket | undefined {
    if (this.running < this.maxInFlight) {
      if (++this.running > this.peakRunning) this.peakRunning = this.running
      start(this.releaser())
      return NO_OP_TICKET
    }
    if (this.waiting.length >= this.maxQueue) return undefined
    if (this.waiting.push(start) > this.peakWaiting) this.peakWaiting = this.waiting.length
    return {
      cancel: () => {
        // The queue is at most maxQueue long, so a linear removal is cheap and keeps it bounded.
        const at = this.waiting.indexOf(start)
        if (at >= 0) this.waiting.splice(at, 1)
      }
    }
  }

  private releaser(): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      this.running--
      this.next()
    }
  }

  private next(): void {
    while (this.running < this.maxInFlight && this.waiting.length > 0) {
      const start = this.waiting.shift()!
      if (++this.running > this.peakRunning) this.peakRunning = this.running
      start(this.releaser())
    }
  }
}

const NO_OP_TICKET: Ticket = { cancel: () => {} }
