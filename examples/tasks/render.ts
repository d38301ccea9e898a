/**
 * The long task of the `graceful-shutdown` example. A task module has nothing
 * but definitions, since every worker imports it.
 */
import { setTimeout as sleep } from "node:timers/promises"
import * as Task from "../../src/Task.ts"

/** A long job: says where it started (a worker's stdout reaches the parent's), then takes `ms`. */
export const render = Task.make(import.meta.url, "render", async (n: number, ms: number) => {
  console.log(`job ${n} started in process ${process.pid}`)
  await sleep(ms, undefined, { signal: Task.signal() })
  return n
})
