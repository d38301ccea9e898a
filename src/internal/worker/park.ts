/**
 * An idle thread's sleep on its doorbell: it takes the next calls straight
 * from its port, without a turn of the event loop, while nothing else waits on
 * that loop. A child process has no doorbell and never parks. Imports only the
 * wire protocol's types.
 *
 * @internal
 */

import type { Doorbell } from "../wire.ts"

/** How long an idle thread sleeps on its doorbell before going back to its event loop. */
const parkMillis = 5
/** Sleeps taken one after another without a turn of the event loop; the next goes through it. */
const parksBetweenTurns = 32

/** The parking of one thread worker. */
export class Parking {
  /** The ports this worker holds open itself; more, and something else listens. */
  private ownPorts = Number.POSITIVE_INFINITY
  private scheduled = false
  /** Asked to stop: it no longer sleeps, so it can exit. */
  private stopped = false
  private parkedInARow = 0

  private readonly doorbell: Doorbell
  /** Whether calls are queued or running: then there is no sleeping. */
  private readonly busy: () => boolean
  /** Gives the listener the messages waiting on the doorbell's port; `true` if there were any. */
  private readonly receiveWaiting: () => boolean

  constructor(doorbell: Doorbell, busy: () => boolean, receiveWaiting: () => boolean) {
    this.doorbell = doorbell
    this.busy = busy
    this.receiveWaiting = receiveWaiting
  }

  /** Counts the ports this worker keeps open itself: called once it listens. */
  countOwnPorts(): void {
    this.ownPorts = process.getActiveResourcesInfo().filter((resource) => resource === "MessagePort").length
  }

  /** No more sleeps: the worker is asked to stop. */
  stop(): void {
    this.stopped = true
  }

  /**
   * With nothing in flight (no call queued or running, no timer, immediate, socket or file
   * operation left by a task, no port beyond its own), the thread sleeps on its doorbell for a
   * while and takes the next calls straight from its port. Anything else waiting on the event
   * loop keeps it from sleeping, and a sleep is short, so work a task left behind is never held up
   * for long.
   */
  private readonly park = (): void => {
    this.scheduled = false
    if (this.stopped || this.busy()) return
    let ports = 0
    for (const resource of process.getActiveResourcesInfo()) {
      if (resource !== "MessagePort") return
      ports++
    }
    if (ports > this.ownPorts || process.stdout.writableLength > 0 || process.stderr.writableLength > 0) return
    // A message posted after this read changes the count, so the wait below returns at once.
    const seen = Atomics.load(this.doorbell.bell, 0)
    if (this.receiveWaiting()) return
    if (Atomics.wait(this.doorbell.bell, 0, seen, parkMillis) === "timed-out") return
    this.receiveWaiting()
  }

  /**
   * After the last call's reply is posted: sleep at once, in this microtask, as Piscina's workers
   * do, so a steady stream of calls never waits on the event loop; every `parksBetweenTurns`-th
   * sleep comes after a turn of it, so what it holds (V8's own tasks) still runs. Microtasks a
   * finished task left behind run when the next call comes, or after the sleep.
   */
  parkNow(): void {
    if (++this.parkedInARow < parksBetweenTurns) {
      this.park()
    } else {
      this.parkedInARow = 0
      this.schedulePark()
    }
  }

  /** Parks once the calls' microtasks have run, from a clean stack. */
  private schedulePark(): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(this.park)
  }
}
