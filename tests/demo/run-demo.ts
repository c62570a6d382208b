// Helpers of the demo's tests: run `npm run demo` as a newcomer runs it (node dist/demo/main.js as a child
// process) and check that lines appear in a given order.
import * as assert from "assert";
import { spawn } from "child_process";
import * as path from "path";
import { findPackageRoot } from "../../components/package-root";

export const ROOT = findPackageRoot(__dirname);
export const DEMO = path.join(ROOT, "dist", "demo", "main.js");

export function runDemo(args: string[], timeoutMs = 100_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [DEMO, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
        });
    });
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
