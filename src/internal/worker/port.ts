/**
 * The worker's end of the channel to its pool: a thread's port (its own
 * doorbell port for calls, or `parentPort`) or a child's IPC channel, behind
 * one `Port`. A child counts what it posted against what was written, and can
 * make its pipe blocking, so an exit right after a post does not cut it short.
 * Imports only the wire protocol's types and keys.
 *
 * @internal
 */

import type { Transferable } from "node:worker_threads"
import * as WorkerThreads from "node:worker_threads"
import { type Doorbell, doorbellKey, type FromWorker, type ToWorker } from "../wire.ts"

/** How the worker talks to its pool, whichever kind of worker it is. */
export interface Port {
  readonly post: (message: FromWorker, transfer: ReadonlyArray<Transferable>) => void
  readonly listen: (listener: (message: ToWorker) => void) => void
  readonly close: () => void
  /** When what was posted is not all written yet (a child's pipe takes a large message in many writes): its end. */
  readonly unwritten: () => Promise<void> | undefined
  /** While on, a post is written before it returns (when nothing is still queued before it). */
  readonly writeThrough: (on: boolean) => void
  /**
   * Gives the listener the messages waiting on the doorbell's port, without the event loop; `true`
   * if there were any. Only a thread with a doorbell has such messages.
   */
  readonly receiveWaiting: () => boolean
}

/** A thread's own port for calls, with its doorbell; a child process has none. */
export const doorbell = (WorkerThreads.workerData as Record<string, unknown> | null)?.[doorbellKey] as
  | Doorbell
  | undefined

/** A thread's port: `parentPort`, or its doorbell's port for calls when it has one. */
const threadPort = (parentPort: WorkerThreads.MessagePort): Port => {
  let listener: ((message: ToWorker) => void) | undefined
  return {
    post: (message, transfer) => (doorbell?.port ?? parentPort).postMessage(message, transfer as Array<any>),
    listen: (l) => {
      listener = l
      if (doorbell === undefined) parentPort.on("message", l)
      else doorbell.port.on("message", l)
    },
    close: () => {
      doorbell?.port.close()
      // Deno's `parentPort` has no `close`: the thread then ends with its event loop.
      const parent = parentPort as { close?: unknown }
      if (typeof parent.close === "function") parent.close()
    },
    // A message posted to a port is whole at once, and delivered even if the thread then exits.
    unwritten: () => undefined,
    writeThrough: () => {},
    receiveWaiting: () => {
      if (doorbell === undefined || listener === undefined) return false
      let any = false
      for (let entry = WorkerThreads.receiveMessageOnPort(doorbell.port); entry !== undefined; ) {
        any = true
        listener(entry.message as ToWorker)
        entry = WorkerThreads.receiveMessageOnPort(doorbell.port)
      }
      return any
    }
  }
}

/**
 * A child's messages posted and written: `process.send` queues what the pipe does not take at once
 * and writes it from the event loop, and `process.exit` drops what is still queued.
 */
class Writes {
  private posted = 0
  private written = 0
  private waiters: Array<() => void> = []

  /** Counts a message `process.send` took. */
  readonly post = (): void => {
    this.posted++
  }

  /** `process.send`'s callback: one message written. */
  readonly onWritten = (): void => {
    // An error (the parent gone) ends the write too.
    if (++this.written !== this.posted || this.waiters.length === 0) return
    const waiters = this.waiters
    this.waiters = []
    for (const resolve of waiters) resolve()
  }

  /** When the messages posted so far are written, or `undefined` when they are. */
  readonly unwritten = (): Promise<void> | undefined =>
    this.written === this.posted ? undefined : new Promise((resolve) => void this.waiters.push(resolve as () => void))
}

interface Pipe {
  readonly setBlocking: (blocking: boolean) => unknown
}

/**
 * The pipe under a child's IPC channel, which Node does not expose: found among the active handles
 * by its fd (it is active once the channel has a `message` listener). `undefined` elsewhere (Deno,
 * Bun): there a post may still be cut short by an exit right after it.
 */
const findIpcPipe = (): Pipe | undefined => {
  try {
    const fd = (process.channel as { readonly fd?: number } | undefined)?.fd
    const handles: ReadonlyArray<any> = (process as any)._getActiveHandles?.() ?? []
    return handles.find((handle) => handle?.fd === fd && typeof handle.setBlocking === "function")
  } catch {
    // Not Node's handles: no pipe to make blocking.
    return undefined
  }
}

/** A child's IPC channel to its parent. */
const processPort = (): Port => {
  const writes = new Writes()
  // Looked for until found: the pipe is among the active handles only once the channel listens.
  let pipe: Pipe | undefined
  return {
    post: (message) => {
      // A message that cannot be serialized throws here, and is never written: not counted.
      process.send!(message, writes.onWritten)
      writes.post()
    },
    listen: (listener) => {
      process.on("message", listener as (message: unknown) => void)
      // The parent is gone (even killed): a child never outlives it.
      process.on("disconnect", () => process.exit(0))
    },
    close: () => process.disconnect(),
    unwritten: writes.unwritten,
    // A blocking pipe: a write finishes before `send` returns, so `process.exit` cannot cut it short.
    writeThrough: (on) => {
      pipe ??= findIpcPipe()
      pipe?.setBlocking(on)
    },
    receiveWaiting: () => false
  }
}

/** This worker's port to its pool. */
export const port: Port = WorkerThreads.parentPort ? threadPort(WorkerThreads.parentPort) : processPort()
