/**
 * An `effect/sql` client on Node's built-in `node:sqlite`, enough for the
 * cluster's `SqlRunnerStorage` and `SqlMessageStorage`: the embedded storage
 * that runners on one host share through a file.
 *
 * Several processes write the same file, so the driver never blocks its event
 * loop on another process's lock: SQLite's own busy wait sleeps the thread,
 * which on a runner would delay shard-lock refreshes and socket replies.
 * Instead a statement that finds the database locked is tried again after a
 * short timer, up to `busyTimeout`. Transactions begin with
 * `BEGIN IMMEDIATE`, so the write lock is taken (or waited for) at `BEGIN`,
 * the one point where trying again is safe.
 *
 * @internal
 */
import { DatabaseSync, type StatementSync } from "node:sqlite"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import * as Client from "effect/sql/SqlClient"
import type { Connection } from "effect/sql/SqlConnection"
import { classifySqliteError, SqlError } from "effect/sql/SqlError"
import * as Statement from "effect/sql/Statement"

/** Options of the SQLite client. */
/** @internal */
export interface SqliteOptions {
  /** The database file; every runner and client of one cluster opens the same file. */
  readonly filename: string
  /** How long a statement may wait for another process's write lock before it fails (default 10 seconds). */
  readonly busyTimeout?: Duration.Input | undefined
}

/** SQLite's primary result code for "the database file is locked". */
const SQLITE_BUSY = 5

const isBusy = (cause: unknown): boolean =>
  typeof cause === "object" &&
  cause !== null &&
  typeof (cause as { errcode?: unknown }).errcode === "number" &&
  ((cause as { errcode: number }).errcode & 0xff) === SQLITE_BUSY

/** node:sqlite names the extended result code `errcode`; the classifier reads `errno`. */
const toSqlError = (cause: unknown, operation: string): SqlError => {
  const errcode = typeof cause === "object" && cause !== null ? (cause as { errcode?: unknown }).errcode : undefined
  const classified =
    typeof errcode === "number"
      ? { cause, errno: errcode, code: (cause as { code?: unknown }).code, message: (cause as Error).message }
      : cause
  return new SqlError({
    reason: classifySqliteError(classified, { message: `SQLite: failed to ${operation}`, operation })
  })
}

/** node:sqlite binds numbers, bigints, strings, buffers and null; the storages also pass booleans. */
const bindable = (params: ReadonlyArray<unknown>): Array<any> =>
  params.map((p) =>
    typeof p === "boolean" ? (p ? 1 : 0) : p === undefined ? null : p instanceof Date ? p.toISOString() : p
  )

/** Rows come back with a null prototype; the storages spread and compare them as plain objects. */
const plainRows = (rows: ReadonlyArray<Record<string, unknown>>): Array<Record<string, unknown>> =>
  rows.map((row) => ({ ...row }))

/**
 * Opens the database and returns an `SqlClient` over its one connection,
 * closed with the scope.
 */
/** @internal */
export const make = (options: SqliteOptions) =>
  Effect.gen(function* () {
    const busyMillis = Duration.toMillis(Duration.fromInputUnsafe(options.busyTimeout ?? "10 seconds"))
    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () => new DatabaseSync(options.filename, { timeout: 0 }),
        catch: (cause) => toSqlError(cause, `open ${options.filename}`)
      }),
      (db) => Effect.sync(() => db.isOpen && db.close())
    )
    const statements = new Map<string, StatementSync>()
    const prepare = (sql: string): StatementSync => {
      let statement = statements.get(sql)
      if (statement === undefined) {
        statement = db.prepare(sql)
        // The storages build their statements from a fixed set of shapes, but the lists of
        // shard ids inline into the text: bound the cache so it cannot grow without end.
        if (statements.size >= 500) statements.delete(statements.keys().next().value!)
        statements.set(sql, statement)
      }
      return statement
    }

    /**
     * Runs `f` on the database; while another process holds the write lock and this
     * connection is outside a transaction, tries again after a timer (1 ms doubling to
     * 50 ms) until `busyTimeout` has passed.
     */
    const attempt = <A>(operation: string, f: () => A): Effect.Effect<A, SqlError> =>
      Effect.suspend(() => {
        const started = Date.now()
        let delay = 1
        const loop: Effect.Effect<A, SqlError> = Effect.suspend(() => {
          try {
            return Effect.succeed(f())
          } catch (cause) {
            if (isBusy(cause) && !db.isTransaction && Date.now() - started < busyMillis) {
              const wait = delay
              delay = Math.min(delay * 2, 50)
              return Effect.flatMap(Effect.sleep(wait), () => loop)
            }
            return Effect.fail(toSqlError(cause, operation))
          }
        })
        return loop
      })

    const run = (
      statement: () => StatementSync,
      params: ReadonlyArray<unknown>,
      mode: "rows" | "raw" | "values"
    ): Effect.Effect<any, SqlError> =>
      Effect.withFiber((fiber) => {
        const safeIntegers = Context.get(fiber.context, Client.SafeIntegers)
        return attempt("execute a statement", () => {
          const s = statement()
          s.setReadBigInts(safeIntegers)
          s.setReturnArrays(mode === "values")
          if (s.columns().length > 0) {
            const rows = s.all(...bindable(params))
            return mode === "values" ? rows : plainRows(rows as Array<Record<string, unknown>>)
          }
          const result = s.run(...bindable(params))
          return mode === "raw" ? { changes: result.changes, lastInsertRowid: result.lastInsertRowid } : []
        })
      })

    const connection: Connection = {
      execute: (sql, params, transformRows) => {
        const rows = run(() => prepare(sql), params, "rows")
        return transformRows ? Effect.map(rows, transformRows) : rows
      },
      executeRaw: (sql, params) => run(() => prepare(sql), params, "raw"),
      executeValues: (sql, params) => run(() => prepare(sql), params, "values"),
      // "Unprepared" asks not to keep the statement; the storages' are few and run on every
      // call, so they are kept as the others are (SQLite runs one statement per text either way).
      executeValuesUnprepared: (sql, params) => run(() => prepare(sql), params, "values"),
      executeUnprepared: (sql, params, transformRows) => {
        const rows = run(() => prepare(sql), params, "rows")
        return transformRows ? Effect.map(rows, transformRows) : rows
      },
      executeStream: () => Stream.die(new Cause.UnknownError(undefined, "SQLite client: streaming is not supported"))
    }

    // WAL lets readers run beside the one writer; NORMAL syncs at checkpoints, not at each commit
    // (a power loss may lose the last commits, never corrupt the file).
    yield* attempt("set up the database", () => {
      db.exec("PRAGMA journal_mode = WAL")
      db.exec("PRAGMA synchronous = NORMAL")
    })

    const { acquirer, borrower, onCommitFailure, transactionAcquirer } = Client.makeSqliteAcquirers({
      connection: Effect.succeed(connection),
      semaphore: yield* Semaphore.make(1),
      isTransaction: () => db.isTransaction
    })

    return yield* Client.make({
      acquirer,
      borrower,
      transactionAcquirer,
      onCommitFailure,
      isTransaction: () => db.isTransaction,
      compiler: Statement.makeCompilerSqlite(),
      driver: "effect-futures/node-sqlite",
      beginTransaction: "BEGIN IMMEDIATE",
      releaseSavepoint: (name) => `RELEASE SAVEPOINT ${name}`,
      spanAttributes: [["db.system.name", "sqlite"]]
    })
  })

/** The client as a layer providing `SqlClient`. */
/** @internal */
export const layer = (options: SqliteOptions): Layer.Layer<Client.SqlClient, SqlError> =>
  Layer.effect(Client.SqlClient, make(options)).pipe(Layer.provide(Reactivity.layer))
