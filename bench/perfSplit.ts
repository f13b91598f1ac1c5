/**
 * perfSplit: where a server's CPU goes per request, from `perf script` output of a `perf record -g` taken with
 * `node --perf-basic-prof` (so JavaScript frames have names). Each sample is charged to its innermost
 * JavaScript frame, with the native code it called (a `writev` that encrypts and writes, a `JSON.parse`), and
 * the frames are grouped by area: our code by folder, a package by name, Node's own JavaScript as `node:*`.
 * Samples with no JavaScript frame are the event loop's native work (epoll, TLS reads), the garbage collector
 * or the rest. bench/profile.ts runs it; standalone: `perf script -i FILE | node bench/perfSplit.ts <µs per request>`.
 */
import * as fs from "node:fs"

export interface Split {
  readonly samples: number
  /** [area, share of samples] sorted by share, largest first. */
  readonly areas: ReadonlyArray<readonly [string, number]>
  /** [innermost JavaScript function, share of samples] sorted by share. */
  readonly frames: ReadonlyArray<readonly [string, number]>
  /** Share of samples in the kernel waking the peer inside a socket write (on loopback, the load generator). */
  readonly wakeUps: number
}

const nativeArea = (stack: ReadonlyArray<string>): string =>
  stack.some((f) => /Scavenge|MarkCompact|Heap::|GCTracer|ConcurrentMarking/.test(f))
    ? "(native: garbage collection)"
    : stack.some((f) => /uv__io_poll|epoll|uv__read|TLSWrap::OnStreamRead/.test(f))
      ? "(native: event loop, TLS reads)"
      : "(native: other)"

const areaOf = (file: string): string =>
  file.startsWith("node:")
    ? "node:*"
    : file.replace(/^.*?node_modules\/((@[^/]+\/)?[^/]+)\/.*$/, "$1").replace(/^(src\/[^/]+)\/.*$/, "$1")

/** split reads `perf script` text (one sample: a header line, then one indented frame per line). */
export const split = (text: string, root: string): Split => {
  const areas = new Map<string, number>()
  const frames = new Map<string, number>()
  let samples = 0
  let wakeUps = 0
  let stack: Array<string> = []
  const flush = () => {
    if (stack.length === 0) return
    samples++
    if (/_raw_spin_unlock_irqrestore|try_to_wake_up/.test(stack[0]!) && stack.some((f) => f.includes("tcp_sendmsg"))) wakeUps++
    const js = stack.find((f) => f.includes(" JS:"))
    if (js === undefined) {
      const area = nativeArea(stack)
      areas.set(area, (areas.get(area) ?? 0) + 1)
    } else {
      // `<ip> JS:*'name file:///path:line:col+0x12 (/tmp/perf-<pid>.map)`
      const frame = js.replace(/^\S+\s+JS:\S?'?/, "").replace(/\+0x[0-9a-f]+.*$/, "").replace(/ \(.*\)$/, "")
        .replace(`file://${root}/`, "")
      const file = frame.includes(" ") ? frame.slice(frame.lastIndexOf(" ") + 1) : frame
      const area = areaOf(file.replace(/:\d+:\d+$/, ""))
      areas.set(area, (areas.get(area) ?? 0) + 1)
      frames.set(frame, (frames.get(frame) ?? 0) + 1)
    }
    stack = []
  }
  for (const line of text.split("\n")) {
    if (line.trim() === "" || !/^\s/.test(line)) flush()
    else stack.push(line.trim())
  }
  flush()
  const sorted = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, samples === 0 ? 0 : n / samples] as const)
  return { samples, areas: sorted(areas), frames: sorted(frames), wakeUps: samples === 0 ? 0 : wakeUps / samples }
}

/** print: the areas, and the top frames, as shares and as µs per request. */
export const print = (result: Split, usPerRequest: number, topFrames = 25): void => {
  const line = (share: number, name: string) =>
    console.log(`${(share * 100).toFixed(1).padStart(6)} %  ${(share * usPerRequest).toFixed(1).padStart(6)} µs  ${name}`)
  console.log(`${result.samples} samples; ${usPerRequest.toFixed(1)} µs of a core per request`)
  line(result.wakeUps, "of all: the kernel waking the peer inside a socket write (counted in the areas too)")
  console.log("by area:")
  for (const [name, share] of result.areas) line(share, name)
  console.log("by innermost JavaScript function:")
  for (const [name, share] of result.frames.slice(0, topFrames)) line(share, name)
}

if (import.meta.main) {
  print(split(fs.readFileSync(0, "utf8"), process.cwd()), Number(process.argv[2] ?? 1))
}
