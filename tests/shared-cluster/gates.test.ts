// Health gates: blocking pods (simulated cluster), the check command (real child processes), Prometheus verdicts
// (pure; the real Prometheus is in prometheus.test.ts), and the waitUntil loop (injected clocks).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    allGates,
    blocked,
    blockingPodsGate,
    checkCommandGate,
    evaluateAlerts,
    evaluateBlockingPods,
    evaluateCommand,
    evaluateQueryResult,
    GateBlockedError,
    parseLabelMatcher,
    pass,
    prometheusAlertsGate,
    runCheckCommand,
    waitUntil,
    type Gate,
    type GateResult,
    type PromAlert,
} from "../../shared-cluster";
import { freePort, JumpClock, simPerTest } from "./helpers";

function pod(name: string, node: string, phase: string, labels: Record<string, string> = { "maintenance/blocker": "true" }): any {
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: "default", labels },
        spec: { nodeName: node, restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] },
        status: { phase },
    };
}

/** A gate whose verdicts come from a list, one per check. */
function scripted(name: string, verdicts: GateResult[]): Gate & { checks: number } {
    const g = {
        name,
        checks: 0,
        async check() {
            return verdicts[Math.min(g.checks++, verdicts.length - 1)];
        },
    };
    return g;
}

describe("shared-cluster: health gates", function () {
    describe("waitUntil", () => {
        it("returns at once when the gate passes", async () => {
            const g = scripted("g", [pass("fine")]);
            assert.deepEqual(await waitUntil(g, 0), { ok: true, detail: "fine" });
        });
        it("reports the reason when it changes (and periodically), then passes", async () => {
            const clock = new JumpClock(0);
            const g = scripted("backup check", [blocked("backup-1 runs"), blocked("backup-1 runs"), blocked("backup-2 runs"), pass()]);
            const seen: string[] = [];
            await waitUntil(g, 60_000, (p) => seen.push(`${p.waitedMs}:${p.reason}`), { clock, pollMs: 1000 });
            assert.deepEqual(seen, ["0:backup-1 runs", "2000:backup-2 runs"]);
            assert.equal(g.checks, 4);
            const clock2 = new JumpClock(0);
            const stuck = scripted("s", [blocked("same")]);
            const again: number[] = [];
            await assert.rejects(
                waitUntil(stuck, 10_000, (p) => again.push(p.waitedMs), { clock: clock2, pollMs: 1000, reportEveryMs: 4000 }),
            );
            assert.deepEqual(again, [0, 4000, 8000]);
        });
        it("fails after the timeout with an error naming the gate and the blocker", async () => {
            const clock = new JumpClock(0);
            await assert.rejects(
                waitUntil(scripted("Prometheus alerts", [blocked("alert NodeDown firing")]), 90_000, undefined, { clock, pollMs: 5000 }),
                (e: any) => {
                    assert.ok(e instanceof GateBlockedError);
                    assert.equal(e.message, "gave up after 1m30s waiting for Prometheus alerts: alert NodeDown firing");
                    assert.equal(e.gate, "Prometheus alerts");
                    assert.equal(e.reason, "alert NodeDown firing");
                    return true;
                },
            );
            assert.equal(clock.now(), 90_000, "the last check is at the deadline");
        });
        it("a final verdict fails at once; a throwing check counts as blocked (fail closed); abort stops the wait", async () => {
            await assert.rejects(
                waitUntil(scripted("cfg", [blocked("bad config", { final: true })]), 60_000),
                /blocked by cfg: bad config/,
            );
            const clock = new JumpClock(0);
            const throwing: Gate = {
                name: "flaky",
                check: async () => {
                    throw new Error("connection refused");
                },
            };
            await assert.rejects(
                waitUntil(throwing, 1000, undefined, { clock }),
                /waiting for flaky: the check failed: connection refused/,
            );
            const ac = new AbortController();
            const p = waitUntil(scripted("x", [blocked("no")]), 60_000, () => ac.abort(new Error("stopped by the user")), {
                pollMs: 60_000,
                signal: ac.signal,
            });
            await assert.rejects(p, /stopped by the user/);
        });
        it("allGates names every blocker", async () => {
            const r = await allGates("all", [
                scripted("a", [pass("a ok")]),
                scripted("b", [blocked("b is red")]),
                scripted("c", [blocked("c is red")]),
            ]).check();
            assert.deepEqual(r, { ok: false, reason: "b: b is red; c: c is red", retryAt: undefined, final: false });
        });
    });

    describe("blocking pods", () => {
        const sim = simPerTest();

        it("pure: completed pods (Succeeded/Failed) never block; node scope only counts the node's pods", () => {
            const pods = [
                { namespace: "default", name: "done", nodeName: "worker1", phase: "Succeeded" },
                { namespace: "default", name: "crashed", nodeName: "worker1", phase: "Failed" },
                { namespace: "default", name: "elsewhere", nodeName: "worker2", phase: "Running" },
            ];
            assert.deepEqual(evaluateBlockingPods(pods, { selector: "app=backup", node: "worker1" }), {
                ok: true,
                detail: "no running pod matches app=backup on worker1 (2 completed pods ignored)",
            });
            assert.deepEqual(evaluateBlockingPods(pods, { selector: "app=backup", scope: "cluster" }), {
                ok: false,
                reason: "pod matching app=backup in the cluster: default/elsewhere (Running on worker2)",
            });
        });

        it("against the cluster: a running matching pod on the node blocks, a completed one does not; cluster scope sees other nodes", async () => {
            const { c, kc } = await sim();
            c.apply(pod("backup-done", "worker1", "Succeeded"));
            c.apply(pod("backup-failed", "worker1", "Failed"));
            c.apply(pod("other-label", "worker1", "Running", { app: "web" }));
            const onW1 = blockingPodsGate(kc, { selector: "maintenance/blocker=true" }, "worker1");
            assert.deepEqual(await onW1.check(), {
                ok: true,
                detail: "no running pod matches maintenance/blocker=true on worker1 (2 completed pods ignored)",
            });
            c.apply(pod("backup-now", "worker2", "Running"));
            assert.equal((await onW1.check()).ok, true, "a pod on worker2 does not block worker1");
            // (the simulated kubelet restarts the pod: Pending, then Running)
            const onW2 = await blockingPodsGate(kc, { selector: "maintenance/blocker=true" }, "worker2").check();
            assert.ok(!onW2.ok);
            assert.match(onW2.reason, /^pod matching maintenance\/blocker=true on worker2: default\/backup-now \((Pending|Running)\)$/);
            const cluster = await blockingPodsGate(kc, { selector: "maintenance/blocker=true", scope: "cluster" }).check();
            assert.ok(!cluster.ok);
            assert.match(
                cluster.reason,
                /^pod matching maintenance\/blocker=true in the cluster: default\/backup-now \((Pending|Running) on worker2\)$/,
            );
            const otherNs = await blockingPodsGate(kc, {
                selector: "maintenance/blocker=true",
                scope: "cluster",
                namespace: "kube-system",
            }).check();
            assert.equal(otherNs.ok, true);
            // it finishes (the simulator's status is the kubelet's: replace the pod with a completed one): the gate opens
            c.delete("Pod", "default", "backup-now", { gracePeriodSeconds: 0 });
            await c.waitFor(() => !c.get("Pod", "default", "backup-now"), 30);
            c.apply(pod("backup-now", "worker2", "Succeeded"));
            assert.equal((await blockingPodsGate(kc, { selector: "maintenance/blocker=true" }, "worker2").check()).ok, true);
        });

        it("bad configuration is refused before any request", () => {
            assert.throws(() => blockingPodsGate(undefined as any, { selector: " " }, "w"), /the label selector is empty/);
            assert.throws(() => blockingPodsGate(undefined as any, { selector: "a=b" }), /node scope needs a node/);
            assert.throws(
                () => blockingPodsGate(undefined as any, { selector: "a=b", scope: "everywhere" as any }, "w"),
                /scope must be "node" or "cluster"/,
            );
        });
    });

    describe("check command", () => {
        const node = process.execPath;

        it("exit 0 passes; NODE_NAME carries the node; arguments are passed as they are, never through a shell", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sc-cmd-"));
            const marker = path.join(dir, "pwned");
            const hostile = `worker1; touch ${marker} $(touch ${marker}) \`touch ${marker}\``;
            const script = "if (process.env.NODE_NAME !== 'worker1') process.exit(5); console.log(JSON.stringify(process.argv.slice(1)));";
            const out = await runCheckCommand({ command: [node, "-e", script, hostile] }, "worker1");
            assert.equal(out.exitCode, 0, out.output);
            assert.deepEqual(JSON.parse(out.output), [hostile]);
            assert.equal(fs.existsSync(marker), false, "nothing was interpreted by a shell");
            assert.deepEqual(await checkCommandGate({ command: [node, "-e", script, "x"] }, "worker1").check(), {
                ok: true,
                detail: `check command ${node} -e ${JSON.stringify(script)} x succeeded`,
            });
            fs.rmSync(dir, { recursive: true });
        });

        it("a non-zero exit blocks with the exit code and the tail of the output", async () => {
            const script =
                "for (let i = 1; i <= 30; i++) console.log('line ' + i); console.error('db replica lag 42s on ' + process.env.NODE_NAME); process.exit(3);";
            const r = await checkCommandGate({ command: [node, "-e", script], tailLines: 3 }, "worker2").check();
            assert.equal(r.ok, false);
            const reason = (r as any).reason as string;
            assert.match(reason, /^check command .* exited with 3; output:\nline 29\nline 30\ndb replica lag 42s on worker2$/);
        });

        it("a command that hangs is killed at its timeout; a missing program says so; no node → no NODE_NAME", async () => {
            const hang = await checkCommandGate(
                { command: [node, "-e", "console.log('starting'); setInterval(() => {}, 1000)"], timeoutMs: 300 },
                "w",
            ).check();
            assert.ok(!hang.ok);
            // (whether "starting" got out before the kill depends on the machine's load: the tail is checked below)
            assert.match((hang as any).reason, /^check command .* did not finish within 300ms(; output:\nstarting)?$/);
            assert.deepEqual(
                evaluateCommand(
                    { exitCode: null, signal: "SIGTERM", timedOut: true, output: "starting\n", durationMs: 300 },
                    { command: ["x"], timeoutMs: 300 },
                ),
                {
                    ok: false,
                    reason: "check command x did not finish within 300ms; output:\nstarting",
                },
            );
            const missing = await checkCommandGate({ command: ["/nonexistent/check-health"] }, "w").check();
            assert.deepEqual(missing, {
                ok: false,
                reason: "check command /nonexistent/check-health could not be started: /nonexistent/check-health: not found",
            });
            const noNode = await runCheckCommand(
                { command: [node, "-e", "process.exit(process.env.NODE_NAME === undefined ? 0 : 1)"], env: { NODE_NAME: "stale" } },
                undefined,
            );
            assert.equal(noNode.exitCode, 0);
            assert.throws(() => checkCommandGate({ command: [] }), /give the program and its arguments as a list/);
            assert.deepEqual(
                evaluateCommand({ exitCode: null, signal: "SIGKILL", timedOut: false, output: "", durationMs: 1 }, { command: ["x"] }),
                {
                    ok: false,
                    reason: "check command x was killed by SIGKILL",
                },
            );
        });
    });

    describe("Prometheus verdicts (pure)", () => {
        const alerts: PromAlert[] = [
            { name: "Watchdog", state: "firing", labels: { alertname: "Watchdog", severity: "none" } },
            {
                name: "NodeDown",
                state: "firing",
                labels: { alertname: "NodeDown", severity: "critical", instance: "w1" },
                activeAt: "2026-12-01T10:00:00Z",
            },
            { name: "DiskFilling", state: "pending", labels: { alertname: "DiskFilling", severity: "warning" } },
        ];
        it("firing alerts block, pending only with includePending; name filters and label matchers narrow it", () => {
            const all = evaluateAlerts(alerts);
            assert.equal(all.ok, false);
            assert.equal(
                (all as any).reason,
                '2 alerts firing: Watchdog{severity="none"} (firing), NodeDown{severity="critical", instance="w1"} (firing since 2026-12-01T10:00:00Z)',
            );
            assert.match((evaluateAlerts(alerts, { ignoreAlertNames: "^Watchdog$" }) as any).reason, /^alert firing: NodeDown/);
            assert.match((evaluateAlerts(alerts, { matchers: ["severity=critical"] }) as any).reason, /^alert firing: NodeDown/);
            assert.deepEqual(evaluateAlerts(alerts, { matchers: ['severity=~"warn.*"'] }), {
                ok: true,
                detail: 'no firing alert matching severity=~"warn.*" (3 alerts in total)',
            });
            assert.match(
                (evaluateAlerts(alerts, { matchers: ["severity=~warn.*"], includePending: true }) as any).reason,
                /^alert firing or pending: DiskFilling/,
            );
            assert.equal(evaluateAlerts(alerts, { alertNames: "Disk" }).ok, true, "only Disk* alerts count, and it is pending");
            assert.equal(evaluateAlerts(alerts, { matchers: ["severity!~none|critical"] }).ok, true);
            assert.equal(evaluateAlerts(alerts, { matchers: ["instance!=w1", "severity!=none"] }).ok, true);
        });
        it("label matchers: PromQL operators, quotes, anchored regexps, clear errors", () => {
            assert.deepEqual(parseLabelMatcher('severity = "critical"'), { label: "severity", op: "=", value: "critical" });
            assert.ok(!parseLabelMatcher("job=~api").regex!.test("api-gateway"), "=~ is anchored");
            assert.throws(() => parseLabelMatcher("sev"), /invalid label matcher "sev": use name=value/);
            assert.throws(() => parseLabelMatcher("sev=~("), /invalid regexp in label matcher/);
            assert.throws(() => prometheusAlertsGate({ url: "http://x", alertNames: "(" }), /invalid regexp in alertNames/);
            assert.throws(() => prometheusAlertsGate({ url: "ftp://x" }), /use http:\/\/ or https:\/\//);
        });
        it("a query must return nothing; otherwise the first series are named; scalars are a mistake", () => {
            assert.deepEqual(evaluateQueryResult({ resultType: "vector", result: [] }, { query: "up == 0" }), {
                ok: true,
                detail: 'query "up == 0" returns no series',
            });
            const series = [1, 2, 3, 4].map((i) => ({ metric: { __name__: "up", job: "node", instance: `w${i}:9100` }, value: [0, "0"] }));
            assert.deepEqual(evaluateQueryResult({ resultType: "vector", result: series }, { query: "up == 0" }), {
                ok: false,
                reason: 'query "up == 0" returns 4 series: up{job="node", instance="w1:9100"} = 0; up{job="node", instance="w2:9100"} = 0; up{job="node", instance="w3:9100"} = 0 and 1 more',
            });
            const s = evaluateQueryResult({ resultType: "scalar", result: [0, "1"] }, { query: "1" });
            assert.ok(!s.ok && s.final && /returns a scalar/.test(s.reason));
        });
        it("an unreachable Prometheus blocks with the reason, and is waited for (it may be restarting)", async () => {
            const port = await freePort();
            const url = `http://127.0.0.1:${port}`;
            const gate = allGates("g", [prometheusAlertsGate({ url, timeoutMs: 2000 })]);
            const r = await gate.check();
            const reason = `Prometheus alerts at ${url}: the check failed: cannot reach Prometheus at ${url}: connection refused (ECONNREFUSED)`;
            assert.deepEqual([r.ok, (r as any).reason], [false, reason]);
            const seen: string[] = [];
            const err = await waitUntil(gate, 30_000, (p) => seen.push(p.reason), { clock: new JumpClock() }).catch((e) => e);
            assert.equal(err.timedOut, true, "retried until the timeout");
            assert.deepEqual(seen, [reason]);
        });
    });
});
