// Test helpers for the simulated cluster: run the real kubectl against it, and
// make raw HTTPS API requests (status code, headers and exact body).

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";

export const KUBECTL = process.env.KUBECTL ?? "/usr/bin/kubectl";

export function haveKubectl(): boolean {
    return fs.existsSync(KUBECTL);
}

export interface RunResult {
    code: number | null;
    stdout: string;
    stderr: string;
}

export interface Target {
    url: string;
    token: string;
    kubeconfig: string; // YAML text
    kubeconfigPath?: string;
}

const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "sim-kubectl-cache-"));

/** Write the cluster's kubeconfig to a temp file (once) and return its path. */
export function kubeconfigFile(t: Target): string {
    if (t.kubeconfigPath && fs.existsSync(t.kubeconfigPath)) return t.kubeconfigPath;
    const file = path.join(cacheDir, `kubeconfig-${t.url.replace(/[^0-9]/g, "")}`);
    if (!fs.existsSync(file)) fs.writeFileSync(file, t.kubeconfig);
    return file;
}

/** Run kubectl with KUBECONFIG pointing at the cluster. Resolves with exit code and output. */
export function kubectl(t: Target | string, args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    const kc = typeof t === "string" ? t : kubeconfigFile(t);
    return new Promise((resolve, reject) => {
        const child = spawn(KUBECTL, [...args, `--cache-dir=${cacheDir}`], {
            env: { ...process.env, KUBECONFIG: kc },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
        });
    });
}

export interface ApiResponse {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    text: string;
    json: any;
}

function caOf(t: Target): Buffer {
    const m = t.kubeconfig.match(/certificate-authority-data:\s*(\S+)/);
    return Buffer.from(m ? m[1] : "", "base64");
}

/** One HTTPS request to the simulated API server (bearer token unless `token: null`). */
export function api(
    t: Target,
    method: string,
    urlPath: string,
    opts: { body?: any; contentType?: string; accept?: string; token?: string | null } = {},
): Promise<ApiResponse> {
    const url = new URL(urlPath, t.url);
    const data =
        opts.body === undefined
            ? undefined
            : Buffer.isBuffer(opts.body)
              ? opts.body
              : Buffer.from(
                    typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body),
                    typeof opts.body === "string" && /protobuf/.test(opts.contentType ?? "") ? "binary" : "utf8",
                );
    const headers: Record<string, string | number> = { Accept: opts.accept ?? "application/json" };
    const token = opts.token === undefined ? t.token : opts.token;
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    if (data) {
        headers["Content-Type"] = opts.contentType ?? "application/json";
        headers["Content-Length"] = data.length;
    }
    return new Promise((resolve, reject) => {
        const req = https.request(url, { method, ca: caOf(t), headers, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c) => chunks.push(c));
            res.on("end", () => {
                const text = Buffer.concat(chunks).toString("utf8");
                let json: any;
                try {
                    json = JSON.parse(text);
                } catch {
                    json = undefined;
                }
                resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
            });
        });
        req.on("error", reject);
        req.end(data);
    });
}

/**
 * Open a watch and collect events until `until` returns true or the stream ends. `onOpen` is called when the
 * status line arrives (the simulator registers the watch before it sends it).
 */
export function watchEvents(
    t: Target,
    urlPath: string,
    until: (events: any[]) => boolean,
    timeoutMs = 10_000,
    onOpen?: (status: number) => void,
): Promise<{ status: number; events: any[]; ended: boolean }> {
    const url = new URL(urlPath, t.url);
    return new Promise((resolve, reject) => {
        const events: any[] = [];
        let buf = "";
        let done = false;
        const req = https.request(
            url,
            { method: "GET", ca: caOf(t), headers: { Authorization: `Bearer ${t.token}` }, agent: false },
            (res) => {
                onOpen?.(res.statusCode ?? 0);
                const finish = (ended: boolean) => {
                    if (done) return;
                    done = true;
                    clearTimeout(timer);
                    req.destroy();
                    resolve({ status: res.statusCode ?? 0, events, ended });
                };
                res.on("data", (c) => {
                    buf += c;
                    let i: number;
                    while ((i = buf.indexOf("\n")) >= 0) {
                        const line = buf.slice(0, i).trim();
                        buf = buf.slice(i + 1);
                        if (line) events.push(JSON.parse(line));
                    }
                    if (until(events)) finish(false);
                });
                res.on("end", () => finish(true));
                res.on("close", () => finish(true));
            },
        );
        const timer = setTimeout(() => {
            if (!done) {
                done = true;
                req.destroy();
                resolve({ status: 0, events, ended: false });
            }
        }, timeoutMs);
        req.on("error", (e) => {
            if (!done) reject(e);
        });
        req.end();
    });
}

/**
 * For a test that needs the real kubectl: when it is not installed, say so where the test output shows it and
 * mark the test pending (mocha counts it as pending, not as passed).
 */
export function requireKubectl(ctx: Mocha.Context): void {
    if (haveKubectl()) return;
    console.log(`      skipped: kubectl not found at ${KUBECTL} (install it, or set KUBECTL to its path, to run this test)`);
    ctx.skip();
}

export function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}
