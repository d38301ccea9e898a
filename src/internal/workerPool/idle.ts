/**
 * `idleTimeout` and `minWorkers`: workers idle that long exit, down to `minWorkers`; one timer,
 * set for the longest-idle worker.
 *
 * @internal
 */
import { maxTimerMillis, type PoolWorker } from "./worker.ts"

/** @internal */
export class IdleShrink {
  private timer: ReturnType<typeof setTimeout> | undefined = undefined

  /**
   * Shrinks `workers`, idle `idleMillis` each, down to `minWorkers`, with `stop`, while `active()`
   * says the pool still shrinks (neither shut down nor broken).
   */
  private readonly workers: ReadonlySet<PoolWorker>
  private readonly idleMillis: number
  private readonly minWorkers: number
  private readonly active: () => boolean
  private readonly stop: (worker: PoolWorker) => void

  constructor(
    workers: ReadonlySet<PoolWorker>,
    idleMillis: number,
    minWorkers: number,
    active: () => boolean,
    stop: (worker: PoolWorker) => void
  ) {
    this.workers = workers
    this.idleMillis = idleMillis
    this.minWorkers = minWorkers
    this.active = active
    this.stop = stop
  }

  /**
   * Wakes when the longest-idle worker has been idle `idleTimeout`, then stops each worker idle
   * that long while more than `minWorkers` are live, and sets itself for the next one.
   */
  arm(): void {
    const { active, stop, workers } = this
    if (this.timer !== undefined || !active() || live(workers) <= this.minWorkers) return
    const idle = this.idleMillis
    let next = Number.POSITIVE_INFINITY
    for (const w of workers) if (!w.retiring && w.items.size === 0) next = Math.min(next, w.since + idle)
    const delay = Math.max(0, next - performance.now())
    if (delay > maxTimerMillis) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      if (!active()) return
      const now = performance.now()
      let count = live(workers)
      for (const w of workers) {
        if (count <= this.minWorkers) break
        if (!w.retiring && w.items.size === 0 && now - w.since >= idle) {
          stop(w)
          count--
        }
      }
      this.arm()
    }, delay)
    this.timer.unref()
  }

  clear(): void {
    if (this.timer === undefined) return
    clearTimeout(this.timer)
    this.timer = undefined
  }
}

/** Workers that take calls: not retiring. */
/** @internal */
export const live = (workers: ReadonlySet<PoolWorker>): number => {
  let n = 0
  for (const w of workers) if (!w.retiring) n++
  return n
}
