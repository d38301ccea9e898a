/**
 * A worker's replies, batched: finished calls' replies wait a moment to share
 * one `Done` message, with the buffers they move and, when the pool asks, the
 * worker's memory use. A result that cannot be cloned fails only its own call.
 * Imports only the wire protocol and this worker's port.
 *
 * @internal
 */

import type { Transferable } from "node:worker_threads"
import * as WorkerThreads from "node:worker_threads"
import { messagesApart, type Reply, unclonableDetail, v8 } from "../wire.ts"
import type { Port } from "./port.ts"

/** How long a finished call's reply may wait for others to share its message. */
const flushAfterMillis = 1
/** RSS costs a read of `/proc` in a process: at most every few milliseconds while calls keep coming. */
const memoryEveryMillis = 5

/** This worker's memory use in bytes: the process's RSS, or the thread's own heap used. */
const memoryUsed = (): number =>
  WorkerThreads.isMainThread ? process.memoryUsage.rss() : v8().getHeapStatistics().used_heap_size

/** What of a reply the task made: its result, or its failure and a failed chunk's results. */
const partsOf = (reply: Reply): ReadonlyArray<unknown> =>
  reply.exit._tag === "Success" ? [reply.exit.value] : [reply.exit, reply.done]

const clones = (u: unknown): boolean => {
  try {
    structuredClone(u)
    return true
  } catch {
    return false
  }
}

/** The batch of replies not posted yet. */
export class Replies {
  private replies: Array<Reply> = []
  /** The buffers the batch moves: every reply's own, which `transfersOf` keeps apart for a post of one reply. */
  private transfers: Array<Transferable> = []
  private readonly transfersOf = new WeakMap<Reply, ReadonlyArray<Transferable>>()
  private batchStarted = 0
  /** Whether replies carry memory use (the pool's `maxMemoryPerWorker`), and when it was last measured. */
  private reportMemory = false
  private memoryMeasuredAt = 0

  private readonly port: Port
  /** Whether calls wait to run: then memory is measured only every `memoryEveryMillis`. */
  private readonly callsWaiting: () => boolean

  constructor(port: Port, callsWaiting: () => boolean) {
    this.port = port
    this.callsWaiting = callsWaiting
  }

  /** From now on, replies carry memory use. */
  reportMemoryUse(): void {
    this.reportMemory = true
  }

  /** Adds a reply that did not run its call (an interrupt, a failed import): it does not start the batch's wait. */
  push(reply: Reply): void {
    this.replies.push(reply)
  }

  /** Adds the reply of a call that ran until `now` (`performance.now()`), with the buffers it moves. */
  pushRun(reply: Reply, transfer: ReadonlyArray<Transferable>, now: number): void {
    if (this.replies.length === 0) this.batchStarted = now
    if (transfer.length > 0) {
      this.transfersOf.set(reply, transfer)
      for (const t of transfer) this.transfers.push(t)
    }
    this.replies.push(reply)
  }

  /** Posts the batch when its first reply has waited long enough: not behind a call that may run long. */
  flushIfDue(now: number): void {
    if (this.replies.length > 0 && now - this.batchStarted > flushAfterMillis) this.flush()
  }

  /**
   * Posts the batch; a result that cannot be cloned fails only its own call. Results that hold the
   * same object (one the task module keeps) go in messages apart, so each caller gets a copy of its own.
   */
  flush(): void {
    if (this.replies.length === 0) return
    const batch = this.replies
    const transfer = this.transfers
    this.replies = []
    this.transfers = []
    let memory: number | undefined
    if (this.reportMemory) {
      const now = performance.now()
      if (!this.callsWaiting() || now - this.memoryMeasuredAt >= memoryEveryMillis) {
        this.memoryMeasuredAt = now
        memory = memoryUsed()
      }
    }
    const messages = messagesApart(batch, partsOf)
    if (messages.length === 1) {
      this.post(batch, transfer, memory)
      return
    }
    for (const replies of messages) {
      const moved: Array<Transferable> = []
      for (const reply of replies) for (const t of this.transfersOf.get(reply) ?? []) moved.push(t)
      this.post(replies, moved, memory)
      memory = undefined
    }
  }

  /** Posts replies in one `Done` message, with the buffers they move. */
  private post(batch: ReadonlyArray<Reply>, transfer: ReadonlyArray<Transferable>, memory: number | undefined): void {
    const port = this.port
    try {
      port.post(
        memory === undefined ? { _tag: "Done", replies: batch } : { _tag: "Done", replies: batch, memory },
        transfer
      )
    } catch {
      // Each reply with its own buffers only: moving the others' too would detach them before their turn.
      for (const reply of batch) {
        try {
          port.post({ _tag: "Done", replies: [reply] }, this.transfersOf.get(reply) ?? [])
        } catch (cause) {
          // Name what could not be cloned: the result, the results of a failed chunk's calls before
          // its failure, or the failure itself. Those results still go when only the failure is at fault.
          const done = reply.done !== undefined && clones(reply.done) ? reply.done : undefined
          const value =
            reply.exit._tag === "Success"
              ? reply.exit.value
              : reply.done !== undefined && done === undefined
                ? reply.done
                : reply.exit
          const exit: Reply["exit"] = { _tag: "Unclonable", ...unclonableDetail(value, "result", cause) }
          port.post(
            { _tag: "Done", replies: [done === undefined ? { id: reply.id, exit } : { id: reply.id, exit, done }] },
            []
          )
        }
      }
    }
  }

  /** `flush`, written before it returns: for a call that has started, and may exit the process. */
  flushWritten(): void {
    if (this.replies.length === 0) return
    this.port.writeThrough(true)
    try {
      this.flush()
    } finally {
      this.port.writeThrough(false)
    }
  }
}
