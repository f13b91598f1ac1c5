/**
 * Deadlines: the request deadlines of one listener, checked by one interval timer instead of a Node timer per
 * request. A request adds its entry when its work starts and removes it when it ends; every `everyMs` the
 * entries past their time are fired (and removed). The timer runs only while some entry is waiting.
 *
 * Why not `setTimeout` per request: creating and clearing a Node timer costs ~2 µs of the ~100 µs a review costs
 * in the server (bench/profile.ts: setTimeout, unenroll, the timer list), on every request, for a deadline that
 * almost never fires. Here a request links and unlinks one entry. The price is precision: a deadline
 * fires up to `everyMs` late, well inside the 0.5 s the deadline keeps before the API server's own timeout
 * (Limits.ts).
 */

/** Entry: one request's deadline; `fire` is called once, at most `everyMs` after `at`, unless removed before. */
export interface DeadlineEntry {
  readonly at: number
  readonly fire: () => void
}

export interface Deadlines {
  /** add registers `fire` to run once `performance.now()` passes `at`; returns the entry to remove. */
  readonly add: (at: number, fire: () => void) => DeadlineEntry
  /** remove forgets the entry (its request ended); nothing happens if it already fired or was removed. */
  readonly remove: (entry: DeadlineEntry) => void
  /** How many entries wait (tests read it). */
  readonly size: () => number
}

/** Default check interval: a deadline fires at most this late. */
export const DEADLINE_CHECK_MS = 25

/** Node: an entry linked into the list of waiting entries. */
interface Node extends DeadlineEntry {
  prev: Node | undefined
  next: Node | undefined
  linked: boolean
}

/**
 * makeDeadlines: the waiting entries are a doubly linked list through the entries themselves, not a Set. A Set
 * that grows and empties with every request reallocates its hash table as it shrinks, and that table, held by a
 * long-lived Set, outlived the young generation: ~170 bytes promoted per request, the largest source of the
 * old generation's growth, so of full collections (the sampling heap profiler, objects surviving scavenges).
 * Linking and unlinking allocate nothing beyond the entry, which dies young with its request.
 */
export const makeDeadlines = (everyMs: number = DEADLINE_CHECK_MS): Deadlines => {
  let head: Node | undefined
  let tail: Node | undefined
  let count = 0
  let timer: ReturnType<typeof setInterval> | undefined
  const unlink = (node: Node) => {
    if (!node.linked) return
    node.linked = false
    if (node.prev === undefined) head = node.next
    else node.prev.next = node.next
    if (node.next === undefined) tail = node.prev
    else node.next.prev = node.prev
    node.prev = node.next = undefined
    count--
  }
  const check = () => {
    const now = performance.now()
    let node = head
    while (node !== undefined) {
      const next = node.next
      if (node.at <= now) {
        unlink(node)
        node.fire()
      }
      // A fire may have unlinked `next` (ending one request can end another's work): then start again from the
      // head; what was already checked and not due is passed over again, what fired is gone.
      node = next === undefined || next.linked ? next : head
    }
    if (count === 0 && timer !== undefined) {
      clearInterval(timer)
      timer = undefined
    }
  }
  return {
    add: (at, fire) => {
      // Appended: entries are checked in the order their requests began.
      const node: Node = { at, fire, prev: tail, next: undefined, linked: true }
      if (tail === undefined) head = node
      else tail.next = node
      tail = node
      count++
      // Unreferenced: a deadline alone does not keep the process up (the listener does while it serves).
      if (timer === undefined) timer = setInterval(check, everyMs).unref()
      return node
    },
    remove: (entry) => unlink(entry as Node),
    size: () => count
  }
}
