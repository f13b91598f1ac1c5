/**
 * Deadlines: every request's deadline on one Node timer. A Node timer per request cost ~2 µs (create, insert,
 * remove) in profiles under load; here a deadline is a small list entry. Entries with the same delay fall due
 * in the order they were scheduled, so each delay keeps a FIFO list and only list heads are ever compared;
 * the one timer is armed for the earliest head. A cancelled entry is unlinked at once, so nothing it refers to
 * outlives its request.
 */

interface DeadlineList {
  head: Deadline | undefined
  tail: Deadline | undefined
}

/** Deadline: a scheduled call; pass it to `cancel`. */
export interface Deadline {
  readonly at: number
  fire: (() => void) | undefined
  prev: Deadline | undefined
  next: Deadline | undefined
  readonly list: DeadlineList
}

export class Deadlines {
  private readonly lists = new Map<number, DeadlineList>()
  private timer: NodeJS.Timeout | undefined
  private armedAt = Number.POSITIVE_INFINITY

  /** schedule calls `fire` after `delayMs` unless cancelled first. */
  schedule(delayMs: number, fire: () => void): Deadline {
    const delay = Math.max(1, Math.round(delayMs))
    let list = this.lists.get(delay)
    if (list === undefined) {
      list = { head: undefined, tail: undefined }
      this.lists.set(delay, list)
    }
    const entry: Deadline = { at: performance.now() + delay, fire, prev: list.tail, next: undefined, list }
    if (list.tail === undefined) list.head = entry
    else list.tail.next = entry
    list.tail = entry
    if (entry.at < this.armedAt) this.arm(entry.at)
    return entry
  }

  /** cancel drops a deadline that has not fired; calling it again, or after it fired, does nothing. */
  cancel(entry: Deadline): void {
    if (entry.fire === undefined) return
    entry.fire = undefined
    this.unlink(entry)
  }

  /** pending: deadlines scheduled and neither fired nor cancelled (tests). */
  get pending(): number {
    let n = 0
    for (const list of this.lists.values()) for (let e = list.head; e !== undefined; e = e.next) n++
    return n
  }

  private unlink(entry: Deadline): void {
    const list = entry.list
    if (entry.prev === undefined) list.head = entry.next
    else entry.prev.next = entry.next
    if (entry.next === undefined) list.tail = entry.prev
    else entry.next.prev = entry.prev
    entry.prev = undefined
    entry.next = undefined
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.armedAt = at
    this.timer = setTimeout(() => this.run(), Math.max(0, at - performance.now()))
  }

  /** run fires what is due, then arms the timer for the earliest deadline left (if any). */
  private run(): void {
    this.timer = undefined
    this.armedAt = Number.POSITIVE_INFINITY
    const now = performance.now()
    let earliest = Number.POSITIVE_INFINITY
    for (const [delay, list] of this.lists) {
      while (list.head !== undefined && list.head.at <= now) {
        const entry = list.head
        const fire = entry.fire
        entry.fire = undefined
        this.unlink(entry)
        fire?.()
      }
      if (list.head === undefined) this.lists.delete(delay)
      else if (list.head.at < earliest) earliest = list.head.at
    }
    if (earliest < this.armedAt) this.arm(earliest)
  }
}
