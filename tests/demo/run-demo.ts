// Helpers of the demo's tests: run `npm run demo` as a newcomer runs it (node dist/demo/main.js as a child
// process) and check that lines appear in a given order.
import * as assert from "assert";
import { runProcess } from "../drain/fixtures";
import * as path from "path";
import { findPackageRoot } from "../../components/package-root";

export const ROOT = findPackageRoot(__dirname);
export const DEMO = path.join(ROOT, "dist", "demo", "main.js");

/** The demo as a child process (from the repository root, as `npm run demo` runs it); killed after `timeoutMs`. */
export function runDemo(args: string[], timeoutMs = 100_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return runProcess(process.execPath, [DEMO, ...args], {}, timeoutMs, ROOT);
}

/** Asserts that the patterns appear in this order. */
export function assertInOrder(text: string, patterns: (string | RegExp)[]) {
    let from = 0;
    for (const p of patterns) {
        const rest = text.slice(from);
        const m =
            typeof p === "string"
                ? { index: rest.indexOf(p), length: p.length }
                : (() => {
                      const r = p.exec(rest);
                      return r ? { index: r.index, length: r[0].length } : { index: -1, length: 0 };
                  })();
        assert.ok(m.index >= 0, `expected ${p} after offset ${from} in:\n${text}`);
        from += m.index + m.length;
    }
}
