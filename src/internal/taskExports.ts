/**
 * Whether a task module exports a Task under the Task's own name, the way a
 * worker finds it, and the message when it does not, listing the module's
 * Task exports. The worker checks every task; the parent checks those whose
 * module it has loaded itself, at their first submit, so the mistake is
 * reported where it was made. No imports: the worker loads this too.
 *
 * @internal
 */

/** A Task as a module's exports hold it: `Task.ts`'s `TypeId` and its name. */
const isTaskExport = (u: unknown): u is { readonly name: string } =>
  typeof u === "object" && u !== null && "~effect-futures/Task" in u

/** The module's Task exports, each with the name it was made under where that differs. */
const taskExports = (exports: Record<string, unknown>): string => {
  const listed: Array<string> = []
  for (const [key, value] of Object.entries(exports)) {
    if (!isTaskExport(value)) continue
    listed.push(value.name === key ? key : `${key} (made as ${JSON.stringify(value.name)})`)
  }
  return listed.length === 0
    ? "it exports no Task (in a bundled program: was the task module bundled into the program? See docs/bundling.md)"
    : `its Task exports: ${listed.join(", ")}`
}

/**
 * Why a worker would not find the task `name` in `module`'s `exports`; `undefined` when it would
 * (the export `name` is a Task made under that very name).
 */
/** @internal */
export const exportProblem = (module: string, name: string, exports: Record<string, unknown>): string | undefined => {
  const found = exports[name]
  if (isTaskExport(found) && found.name === name) return undefined
  const problem = !isTaskExport(found)
    ? `${module} has no export ${JSON.stringify(name)} made with Task.make` +
      (found === undefined ? "" : ` (the export is a ${typeof found})`)
    : `${module} exports ${JSON.stringify(name)}, but it is the task ${JSON.stringify(found.name)}: ` +
      "pass the export's own name to Task.make"
  return `${problem}; ${taskExports(exports)}`
}

/** A Task as the parent checks it. */
interface TaskRef {
  readonly module: string
  readonly name: string
}

/** Tasks made while their own module's code was running (it was on the stack): that module is loaded here. */
const madeByOwnModule = new WeakSet<TaskRef>()

/**
 * Called by `Task.make`: notes whether the task's module is the one making it, seen on the call
 * stack by its URL (or, under a loader that shows paths, its path).
 */
/** @internal */
export const noteMaker = (task: TaskRef): void => {
  const stack = new Error().stack
  if (stack === undefined) return
  let path: string | undefined
  if (task.module.startsWith("file://")) {
    try {
      path = decodeURIComponent(new URL(task.module).pathname)
    } catch {
      path = undefined
    }
  }
  if (stack.includes(`${task.module}:`) || (path !== undefined && stack.includes(`${path}:`))) {
    madeByOwnModule.add(task)
  }
}

/**
 * How long the parent waits for its own copy of a task's module. A module it has loaded comes at
 * once; one still being evaluated (its top level awaits this very submit) would never come, and
 * then the worker checks instead.
 */
const importMillis = 2_000

/** What the parent knows of each task: `null` fine (or not its to check), a message, or a check under way. */
const checked = new WeakMap<TaskRef, string | null | Promise<string | null>>()

const lookUp = (task: TaskRef): Promise<string | null> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), importMillis)
    timer.unref?.()
  })
  const found = import(/* @vite-ignore */ task.module).then(
    (exports: Record<string, unknown>) => exportProblem(task.module, task.name, exports) ?? null,
    // The worker reports a module that cannot be imported.
    () => null
  )
  return Promise.race([found, late]).finally(() => clearTimeout(timer))
}

/**
 * The parent's check of a task before its first submit: `null` when fine or when the parent
 * cannot tell (it has not loaded the module: the worker checks), the problem's message, or a
 * Promise of either while the parent reads its own copy of the module.
 */
/** @internal */
export const checkExport = (task: TaskRef): string | null | Promise<string | null> => {
  const known = checked.get(task)
  if (known !== undefined) return known
  if (!madeByOwnModule.has(task)) {
    checked.set(task, null)
    return null
  }
  const pending = lookUp(task).then((problem) => {
    checked.set(task, problem)
    return problem
  })
  checked.set(task, pending)
  return pending
}
