/**
 * A first-in first-out queue with O(1) `shift`, for the pools' pending work
 * (`Array.prototype.shift` is O(n), and a burst of submits can queue 100k).
 *
 * @internal
 */

/** @internal */
export class Fifo<A> {
  private items: Array<A | undefined> = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  push(item: A): void {
    this.items.push(item)
  }

  /** The oldest item, left in place. */
  peek(): A | undefined {
    return this.head === this.items.length ? undefined : this.items[this.head]
  }

  shift(): A | undefined {
    if (this.head === this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  /** Removes and returns everything, oldest first. */
  drain(): Array<A> {
    const out = this.items.slice(this.head) as Array<A>
    this.items = []
    this.head = 0
    return out
  }
}

/**
 * The pools' pending work with per-task priority: higher runs first, equal
 * priorities in submit order. Everything at the default priority 0 lives in
 * one `Fifo`, so a pool that never uses priorities pays nothing for them.
 *
 * @internal
 */
export class PriorityFifo<A> {
  private readonly normal = new Fifo<A>()
  /** Non-zero priorities, highest first. */
  private others: Array<{ readonly priority: number; readonly items: Fifo<A> }> = []
  private count = 0

  get length(): number {
    return this.count
  }

  push(item: A, priority = 0): void {
    this.count++
    if (priority === 0) {
      this.normal.push(item)
      return
    }
    let i = 0
    while (i < this.others.length && this.others[i].priority > priority) i++
    if (i === this.others.length || this.others[i].priority !== priority) {
      this.others.splice(i, 0, { priority, items: new Fifo<A>() })
    }
    this.others[i].items.push(item)
  }

  /** What `shift` would give next, left in place. */
  peek(): A | undefined {
    if (this.others.length === 0) return this.normal.peek()
    const first = this.others[0]
    return first.priority < 0 && this.normal.length > 0 ? this.normal.peek() : first.items.peek()
  }

  shift(): A | undefined {
    if (this.count === 0) return undefined
    this.count--
    if (this.others.length === 0) return this.normal.shift()
    const first = this.others[0]
    if (first.priority < 0 && this.normal.length > 0) return this.normal.shift()
    const item = first.items.shift()
    if (first.items.length === 0) this.others.shift()
    return item
  }

  /** Removes and returns everything, in the order `shift` would give it. */
  drain(): Array<A> {
    const out: Array<A> = []
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item)
    return out
  }
}

/**
 * What a worker holds: calls by id, in the order sent, for the replies that come back
 * (nearly always) in that order. An array searched from its oldest entry rather than a
 * `Map`: a Map with a steady set/delete churn rehashes into a new table now and then, and
 * V8 links each retired table to its successor, so a retired table promoted to the old
 * generation keeps every call stored since alive through scavenges until the next full GC.
 * Under a long stream of tiny calls that grew the young generation to its maximum (W6).
 *
 * @internal
 */
export class SentCalls<A extends { readonly id: number; readonly moved: number }> {
  private items: Array<A | undefined> = []
  private head = 0
  private count = 0
  private movedBytes = 0

  get size(): number {
    return this.count
  }

  /** The bytes of the buffers the items moved (`moved`), all together. */
  get moved(): number {
    return this.movedBytes
  }

  add(item: A): void {
    this.items.push(item)
    this.count++
    this.movedBytes += item.moved
  }

  private indexOf(id: number): number {
    const items = this.items
    for (let i = this.head; i < items.length; i++) if (items[i]?.id === id) return i
    return -1
  }

  get(id: number): A | undefined {
    const i = this.indexOf(id)
    return i < 0 ? undefined : this.items[i]
  }

  has(id: number): boolean {
    return this.indexOf(id) >= 0
  }

  delete(id: number): boolean {
    const i = this.indexOf(id)
    if (i < 0) return false
    this.movedBytes -= this.items[i]!.moved
    this.items[i] = undefined
    this.count--
    if (this.count === 0) {
      this.items = []
      this.head = 0
      return true
    }
    while (this.items[this.head] === undefined) this.head++
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return true
  }

  /** The items, oldest first: a copy, so the caller may delete while it goes through them. */
  values(): Array<A> {
    const out: Array<A> = []
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i]
      if (item !== undefined) out.push(item)
    }
    return out
  }

  clear(): void {
    this.items = []
    this.head = 0
    this.count = 0
    this.movedBytes = 0
  }
}
