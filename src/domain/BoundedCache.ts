/**
 * BoundedCache: memoise a pure function of a string, keeping at most `capacity` entries (the oldest entry
 * leaves first). The webhook sees the same few annotation values over and over (every Pod of a task asks for
 * the same secrets), so decoding each once saves work on every request while a flood of distinct values
 * cannot grow memory.
 */
export const boundedCache = <A>(capacity: number, compute: (key: string) => A): (key: string) => A => {
  const entries = new Map<string, A>()
  return (key) => {
    const hit = entries.get(key)
    if (hit !== undefined || entries.has(key)) return hit as A
    const value = compute(key)
    if (entries.size >= capacity) entries.delete(entries.keys().next().value as string)
    entries.set(key, value)
    return value
  }
}
