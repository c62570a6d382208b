// A real Prometheus (Debian's `prometheus` package) for the health-gate tests: started on 127.0.0.1 with a free
// port, its own temporary config and a rule file with an alert that always fires (AlwaysFiring) and one that
// stays pending (AlwaysPending). `startPrometheus` returns once AlwaysFiring fires (polling the API), or says why
// it cannot run here (no binary), so the caller can skip with that reason.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fetchAlerts, waitUntil, type Gate } from "../../shared-cluster";
import { freePort } from "../shared-cluster/helpers";

export interface RunningPrometheus {
    url: string;
    stop(): Promise<void>;
}

export function prometheusBinary(): string | undefined {
    const fromPath = spawnSync("sh", ["-c", "command -v prometheus"], { encoding: "utf8" }).stdout.trim();
    if (fromPath) return fromPath;
    return fs.existsSync("/usr/bin/prometheus") ? "/usr/bin/prometheus" : undefined;
}

const CONFIG = `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - rules.yml
`;

export const RULES = `groups:
  - name: node-upgrade-test
    interval: 1s
    rules:
      - alert: AlwaysFiring
        expr: vector(1) > 0
        for: 0s
        labels:
          severity: critical
      - alert: AlwaysPending
        expr: vector(1) > 0
        for: 1h
        labels:
          severity: warning
`;

export async function startPrometheus(): Promise<RunningPrometheus | { skipped: string }> {
    const bin = prometheusBinary();
    if (!bin) return { skipped: "no prometheus binary on PATH or at /usr/bin/prometheus; install it with `apt-get install -y prometheus`" };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "prometheus-"));
    fs.writeFileSync(path.join(dir, "prometheus.yml"), CONFIG);
    fs.writeFileSync(path.join(dir, "rules.yml"), RULES);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = spawn(
        bin,
        [
            `--config.file=${path.join(dir, "prometheus.yml")}`,
            `--storage.tsdb.path=${path.join(dir, "data")}`,
            `--web.listen-address=127.0.0.1:${port}`,
            "--log.level=warn",
        ],
        { cwd: dir, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    proc.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
    const stop = async () => {
        if (proc.exitCode === null && proc.signalCode === null) {
            const gone = new Promise((r) => proc.once("exit", r));
            proc.kill("SIGTERM");
            await gone;
        }
        fs.rmSync(dir, { recursive: true, force: true });
    };
    const exited = new Promise<never>((_, reject) =>
        proc.once("exit", (code) => reject(new Error(`prometheus exited (${code}) before the alert fired:\n${stderr}`))),
    );
    exited.catch(() => undefined);
    // Wait (polling its API, not sleeping a fixed time) until the rule has been evaluated and the alert fires.
    const firing: Gate = {
        name: "AlwaysFiring to fire",
        check: async () => {
            const alerts = await fetchAlerts({ url, timeoutMs: 2000 });
            return alerts.some((a) => a.name === "AlwaysFiring" && a.state === "firing")
                ? { ok: true }
                : { ok: false, reason: "not firing yet" };
        },
    };
    try {
        await Promise.race([waitUntil(firing, 60_000, undefined, { pollMs: 100 }), exited]);
    } catch (err) {
        await stop();
        throw err;
    }
    return { url, stop };
}

/**
 * A real Prometheus for the enclosing mocha suite: started in its `before`, stopped in its `after`. Where the
 * binary is missing, the suite's tests are skipped (pending) with the reason, never passed. Read `url` in tests
 * or hooks.
 */
export function prometheusPerSuite(): { readonly url: string } {
    let running: RunningPrometheus | undefined;
    before(async function () {
        const started = await startPrometheus();
        if ("skipped" in started) {
            console.log(`      (skipped: ${started.skipped})`);
            this.skip();
        }
        running = started as RunningPrometheus;
    });
    after(async () => running?.stop());
    return {
        // "" until the suite's before has run (or when the suite is skipped): tests read it only once it has.
        get url(): string {
            return running?.url ?? "";
        },
    };
}
