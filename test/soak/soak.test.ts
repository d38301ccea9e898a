/**
 * The soak in CI: the same code as `npm run soak` (see `soak.ts`), each
 * phase cut to a time budget so the whole file takes about 10 seconds. Every
 * result must be right, the JS heap in use (after a GC) must not grow by
 * 32 MB after the warm-up, and nothing a pool opened (timers, ports, pipes,
 * child processes) may outlive its scope.
 *
 * The RSS outside V8's heap is bounded more loosely here than in the full
 * soak: in its first seconds a process running worker threads is still
 * climbing to the RSS it then keeps (allocator arenas, JIT code, the workers'
 * heaps), by up to about 50 MB on the interpreter pool, and then stays flat
 * (the full soak holds it to 32 MB after a longer warm-up). Here that bound
 * only catches a gross native leak.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { allPools, soak } from "./soak.ts"

describe("soak (CI variant, about 10 seconds)", () => {
  for (const pool of allPools) {
    it.live(
      `${pool}: tiny tasks by submit, then map with buffersize over an endless iterable: no growth, nothing left behind`,
      () =>
        Effect.gen(function* () {
          const report = yield* soak({
            pools: [pool],
            tasks: 1_000_000,
            mapped: 1_000_000,
            phaseMillis: 1_000,
            window: 2_000,
            rssLimitMB: 128
          })
          const summary = JSON.stringify(report.pools, null, 1)
          expect(report.problems, summary).toEqual([])
          for (const phase of report.pools[0]!.phases) expect(phase.count, summary).toBeGreaterThan(1_000)
        }),
      120_000
    )
  }
})
