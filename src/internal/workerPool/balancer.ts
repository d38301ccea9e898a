/**
 * How many calls go to a worker at once. Slow calls go one at a time, so they spread over every
 * worker as Python's shared call queue spreads them; tiny calls go in batches worth about
 * `batchMillis` of work, since then the message, not the call, is the cost.
 *
 * @internal
 */
import type { PoolWorker } from "./worker.ts"

/** Calls per message when the queue is deep; a worker holds at most two such batches. */
const batchSize = 64

/** The work, in milliseconds, a batch of tiny calls should hold. */
const batchMillis = 2

/**
 * The bytes of moved buffers (`Task.transfer`) the workers may hold at once, beyond one call each.
 * Moving a buffer out takes its bytes off this thread's external memory, and its return (or the
 * result's) puts them back: V8 counts what came back since the low point after its last full
 * collection as allocated, and starts another once that nears the old generation's headroom (a
 * few tens of MiB in a small heap). A batch's worth of 1 MiB buffers in flight did so every few
 * dozen milliseconds; moving costs nothing per byte, so smaller batches cost little.
 */
const movedBytesHeld = 8 << 20

/** @internal */
export class Balancer {
  /** What a call costs a worker, on average lately; `undefined` until a reply came. */
  private millisPerCall: number | undefined = undefined

  /**
   * Learns what a call costs from one that ran: `millis`, the time its worker ran it (posting the
   * replies before it included) and the time its arguments took to post here, about what reading
   * them costs the worker. A call's payload weighs as its run time does, and neither the wait for a
   * message nor a pause of this thread (a collection) counts.
   */
  measure(millis: number): void {
    this.millisPerCall = this.millisPerCall === undefined ? millis : this.millisPerCall * 0.8 + millis * 0.2
  }

  /**
   * Calls a worker may hold at once: a batch's worth by cost, never more than half a worker's fair
   * share of the `unanswered` calls (queued or held by a worker), so an estimate made on other
   * calls cannot tie up the rest and every worker keeps a second batch coming; one at a time
   * until a call's cost is known.
   */
  private capacity(unanswered: number, maxWorkers: number): number {
    const cost = this.millisPerCall
    if (cost === undefined) return 1
    const byCost = Math.max(1, Math.min(2 * batchSize, Math.floor(batchMillis / cost)))
    return Math.min(byCost, Math.max(1, Math.ceil(unanswered / (2 * maxWorkers))))
  }

  /**
   * Whether a call moving `bytes` may go to a worker now, the workers holding `held` bytes of
   * moved buffers: always when it moves none, or when it would be the worker's only call.
   */
  mayMove(bytes: number, held: number, only: boolean): boolean {
    return bytes === 0 || only || held + bytes <= movedBytesHeld
  }

  /**
   * How many calls to send `worker` now (0: none). A busy worker is topped up only once half its
   * capacity is free: fewer, larger messages. `maxTasksPerChild` caps what one worker is sent.
   */
  room(worker: PoolWorker, unanswered: number, maxWorkers: number, maxTasksPerChild: number | undefined): number {
    const capacity = this.capacity(unanswered, maxWorkers)
    let room = Math.min(batchSize, capacity - worker.items.size)
    if (worker.items.size > 0 && 2 * room < capacity) return 0
    if (maxTasksPerChild !== undefined) room = Math.min(room, maxTasksPerChild - worker.sent)
    return Math.max(0, room)
  }
}
