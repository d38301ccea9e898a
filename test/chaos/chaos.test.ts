/**
 * Chaos runs on each pool: a few thousand mixed tasks while futures are
 * cancelled and interrupted and the pool is shut down, broken or torn down;
 * then the ledger must balance (see `chaos.ts`).
 *
 * By default CI runs a few fixed seeds per pool (see `ciSeeds`). To replay
 * or explore:
 * - `CHAOS_SEED=1234 npx vitest run test/chaos` replays one seed (on every
 *   pool; add `CHAOS_POOL=ProcessPool` for one);
 * - `CHAOS_RUNS=50 npx vitest run test/chaos` runs 50 random seeds per pool;
 * - `CHAOS_TASKS=5000` changes how many submits a run attempts (default 1500);
 * - `CHAOS_VERBOSE=1` prints each run's report.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type PoolName, replaces, runChaos, terminals } from "./chaos.ts"

const pools: ReadonlyArray<PoolName> = ["ThreadPool", "InterpreterPool", "ProcessPool"]

const env = (name: string): number | undefined => {
  const value = process.env[name]
  if (value === undefined || value === "") return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got ${JSON.stringify(value)}`)
  return n
}

const tasks = env("CHAOS_TASKS") ?? 1500
const onlyPool = process.env.CHAOS_POOL

const seedsFor = (pool: PoolName): ReadonlyArray<number> => {
  const seed = env("CHAOS_SEED")
  if (seed !== undefined) return [seed]
  const runs = env("CHAOS_RUNS")
  if (runs !== undefined) return Array.from({ length: runs }, () => Math.floor(Math.random() * 2 ** 31))
  return ciSeeds[pool]
}

/**
 * The seeds CI runs. `seed % terminals[pool].length` picks the terminal fault and `replaces` whether a
 * worker pool breaks or replaces a dead worker, so these cover every terminal fault of the thread pool,
 * and on the worker pools (which share their machinery): process.exit in both modes on the interpreter
 * pool; SIGKILL in both modes, shutdown and an interrupted scope on the process pool.
 */
const ciSeeds: Record<PoolName, ReadonlyArray<number>> = {
  ThreadPool: [0, 1, 2],
  InterpreterPool: [0, 4],
  ProcessPool: [0, 5, 2, 3]
}

describe("chaos", () => {
  for (const pool of pools) {
    if (onlyPool !== undefined && onlyPool !== pool) continue
    describe(pool, () => {
      for (const seed of seedsFor(pool)) {
        const terminal =
          terminals[pool][seed % terminals[pool].length] + (replaces(pool, seed) ? ", onWorkerDeath: replace" : "")
        it.live(
          `seed ${seed} (${terminal}): every future ends exactly once, as the faults allow ` +
            `[replay: CHAOS_SEED=${seed} CHAOS_POOL=${pool} npx vitest run test/chaos]`,
          () =>
            Effect.gen(function* () {
              const report = yield* runChaos({ pool, seed, tasks })
              const summary = [
                `${pool} chaos, seed ${seed} (replay: CHAOS_SEED=${seed} CHAOS_POOL=${pool} npx vitest run test/chaos)`,
                `config ${report.config}, terminal fault ${report.terminal}, ${report.millis} ms`,
                `attempted ${report.attempted}, accepted ${report.accepted}, rejected ${report.rejected}`,
                `outcomes ${JSON.stringify(report.outcomes)}`,
                ...report.events
              ].join("\n")
              if (process.env.CHAOS_VERBOSE) console.log(summary)
              expect(report.violations, summary).toEqual([])
              expect(report.attempted).toBe(tasks)
            }),
          120_000
        )
      }
    })
  }
})
