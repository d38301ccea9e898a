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
