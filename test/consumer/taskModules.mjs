/**
 * What `effect-futures/Task` loads: imports it with a hook that records every
 * module loaded, then prints the ones under `node_modules` as one JSON line.
 * test/package.test.ts checks that a task module importing the subpath loads
 * no executor and no Effect, which is what makes every worker start fast.
 */
import * as Module from "node:module"

const loaded = []
Module.registerHooks({
  load: (url, context, next) => {
    if (url.includes("/node_modules/")) loaded.push(url.slice(url.lastIndexOf("/node_modules/") + 14))
    return next(url, context)
  }
})
const Task = await import("effect-futures/Task")
if (typeof Task.make !== "function") throw new Error("effect-futures/Task has no make")
console.log(JSON.stringify(loaded.sort()))
