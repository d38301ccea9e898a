/**
 * The parent's side of "a child process dies with its parent": one small
 * shell process per parent process, which holds the names of its living
 * children and SIGKILLs them once the parent is gone, however it went
 * (SIGKILL included). The parent writes `+pid` when it forks a child and
 * `-pid` when the child has ended, down a pipe only the parent holds; the
 * parent's death closes that pipe, and the shell, reading its end, kills who
 * is left. A child that a task keeps busy cannot hear that its parent died,
 * and a thread of its own watching for it costs each child tens of
 * milliseconds of CPU and megabytes at start (`worker/death.ts`, which each
 * child runs only where this guard is not there: Windows, Bun, Deno, no
 * `/bin/sh`). The guard ends once no child of its lives, so a pool that has
 * shut down leaves no process behind; the next fork starts another.
 *
 * @internal
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import type { Writable } from "node:stream"

/**
 * Reads `+pid` and `-pid` lines, keeping the living pids; at the end of its input (the parent is
 * gone) kills them. Ignores the signals a terminal sends the whole group, so it outlives the
 * parent it guards.
 */
const script = `trap '' INT TERM HUP
pids=""
while read -r line; do
  case "$line" in
    +*) pids="$pids \${line#+}" ;;
    -*) id="\${line#-}"; rest=""
        for p in $pids; do [ "$p" = "$id" ] || rest="$rest $p"; done
        pids="$rest" ;;
  esac
done
[ -n "$pids" ] && kill -9 $pids 2>/dev/null
exit 0`

interface Guard {
  readonly write: (line: string) => void
  /** Its input ends: with no child left to kill, it exits. */
  readonly close: () => void
}

/** The guard, once started; `null` where it cannot run here. */
let guard: Guard | null | undefined
/** The children it must know of: given again to a guard started after one that died. */
const living = new Set<number>()

/** Only Node's child processes: a pipe elsewhere may not let the parent exit, and Windows has no `/bin/sh`. */
const canGuard = (): boolean =>
  process.platform !== "win32" &&
  typeof (process.versions as { bun?: string }).bun !== "string" &&
  !("Deno" in globalThis) &&
  Fs.existsSync("/bin/sh")

/** A guard that dies this soon after it started is not started again: the shell cannot run here. */
const minLifeMillis = 1_000

const start = (): Guard | null => {
  if (!canGuard()) return null
  let shell: ChildProcess.ChildProcessByStdio<Writable, null, null>
  try {
    shell = ChildProcess.spawn("/bin/sh", ["-c", script], { stdio: ["pipe", "ignore", "ignore"] })
  } catch {
    return null
  }
  const startedAt = performance.now()
  let alive = true
  const gone = (): void => {
    if (!alive) return
    alive = false
    if (guard !== started) return
    // Killed by someone: another takes over at once, with every living child (or at the next fork).
    guard = performance.now() - startedAt < minLifeMillis ? null : living.size > 0 ? start() : undefined
  }
  shell.once("exit", gone)
  shell.once("error", gone)
  shell.stdin.on("error", gone)
  // Neither keeps the parent alive.
  shell.unref()
  ;(shell.stdin as { unref?: () => void }).unref?.()
  const started: Guard = {
    write: (line) => {
      if (alive) shell.stdin.write(`${line}\n`)
    },
    close: () => {
      if (alive) shell.stdin.end()
    }
  }
  for (const pid of living) started.write(`+${pid}`)
  return started
}

/**
 * Whether a guard runs in this process, starting it at the first call: a child forked now is
 * told so in its environment (`guardedKey`), and then does not watch its parent itself.
 */
/** @internal */
export const guardRuns = (): boolean => {
  if (guard === undefined) guard = start()
  return guard !== null
}

/** A child just forked: killed with its parent from now on. */
/** @internal */
export const watch = (pid: number): void => {
  if (guard === undefined) guard = start()
  if (guard === null) return
  living.add(pid)
  guard.write(`+${pid}`)
}

/** A child that has ended: forgotten, since the system may give its pid to another process. */
/** @internal */
export const forget = (pid: number): void => {
  if (!living.delete(pid) || guard === undefined || guard === null) return
  guard.write(`-${pid}`)
  if (living.size > 0) return
  // Nothing left to guard: it ends, and the next fork starts another.
  const done = guard
  guard = undefined
  done.close()
}
