// Unit tests of the drain engine's pure helpers: durations, API error reading, backoff, selectors,
// budget messages, progress lines, version matching, kubeconfig loading.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    parseDuration,
    formatDuration,
    DurationError,
    parseLabelSelector,
    requirementsMatch,
    selectorMatches,
    budgetAllowsDisruption,
    budgetIsStale,
    describeBudgetBlock,
    describeBudgetWait,
    budgetNumbers,
} from "../../kube-rules";
import {
    toApiFailure,
    isNotFound,
    isTooManyRequests,
    isDisruptionBudgetRefusal,
    isNamespaceTerminating,
    isMultiplePdbRefusal,
    isTransient,
    describeFailure,
} from "../../drain/api-errors";
import { Backoff, Deadline, DeadlineExceeded, sleep, withRetry } from "../../drain/retry";
import { formatProgress } from "../../drain/progress-format";
import { kubeletVersionMatches } from "../../drain/wait-for-node";
import { classifyEvictionError, classifyDeleteError } from "../../drain/evict";
import { loadKubeConfig, KubeConfigError } from "../../drain/kube-client";
import { describeTermination } from "../../drain/objects";
import { ApiException, type V1PodDisruptionBudget } from "@kubernetes/client-node";

const status = (code: number, reason: string, message: string, details?: object) =>
    JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", reason, message, code, details });

describe("kube-rules/duration", () => {
    it("parses Go durations", () => {
        const cases: [string, number][] = [
            ["0", 0],
            ["30s", 30],
            ["5m", 300],
            ["1h", 3600],
            ["1h2m", 3720],
            ["1h2m3.5s", 3723.5],
            ["300ms", 0.3],
            ["1.5h", 5400],
            ["2m30s", 150],
            ["-1s", -1],
            ["+5s", 5],
            ["1500us", 0.0015],
            ["10µs", 0.00001],
            [".5s", 0.5],
            ["0s", 0],
            ["1m0s", 60],
        ];
        for (const [text, seconds] of cases) assert.ok(Math.abs(parseDuration(text) - seconds) < 1e-9, `${text} → ${parseDuration(text)}`);
    });
    it("rejects what Go rejects, saying what form is expected", () => {
        for (const bad of ["", "30", "5x", "m", "1h-2m", "abc", "1.s.5", "-", "s30"]) {
            assert.throws(
                () => parseDuration(bad),
                (e: unknown) =>
                    e instanceof DurationError && /expected a Go duration such as 30s, 5m, 1h2m or 0/.test((e as Error).message),
                bad,
            );
        }
        assert.throws(() => parseDuration("30"), /missing unit/);
        assert.throws(() => parseDuration("5x"), /unknown unit "x"/);
    });
    it("formats like Go", () => {
        assert.equal(formatDuration(0), "0s");
        assert.equal(formatDuration(5), "5s");
        assert.equal(formatDuration(60), "1m0s");
        assert.equal(formatDuration(150), "2m30s");
        assert.equal(formatDuration(3600), "1h0m0s");
        assert.equal(formatDuration(3723.5), "1h2m3.5s");
        assert.equal(formatDuration(0.3), "300ms");
        assert.equal(formatDuration(-5), "-5s");
    });
    it("round-trips", () => {
        for (const s of [1, 59, 61, 3599, 3601, 86400, 0.25]) assert.equal(parseDuration(formatDuration(s)), s);
    });
});

describe("drain/api-errors", () => {
    it("reads a NotFound Status", () => {
        const f = toApiFailure(new ApiException(404, "x", status(404, "NotFound", 'pods "web-1" not found'), {}));
        assert.equal(f.code, 404);
        assert.ok(isNotFound(f));
        assert.equal(f.message, 'pods "web-1" not found');
        assert.ok(!isTransient(f));
    });
    it("a PDB 429 is a budget refusal, not transient-with-retry-after", () => {
        const body = status(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.", {
            causes: [{ reason: "DisruptionBudget", message: "The disruption budget web needs 2 healthy pods and has 2 currently" }],
        });
        const f = toApiFailure(new ApiException(429, "x", body, {}));
        assert.ok(isTooManyRequests(f) && isDisruptionBudgetRefusal(f));
        assert.equal(f.retryAfterSeconds, undefined);
        assert.equal(classifyEvictionError(new ApiException(429, "x", body, {}), "default/web-1").kind, "budget");
    });
    it("a stale-PDB 429 carries Retry-After and is handled as a budget wait", () => {
        const body = status(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.", {
            causes: [{ reason: "DisruptionBudget", message: "The disruption budget web is still being processed by the server." }],
            retryAfterSeconds: 10,
        });
        const err = new ApiException(429, "x", body, { "retry-after": "10" });
        assert.equal(toApiFailure(err).retryAfterSeconds, 10);
        assert.equal(classifyEvictionError(err, "default/web-1").kind, "budget");
    });
    it("a priority-and-fairness 429 (plain text) is transient and honours Retry-After", () => {
        const err = new ApiException(429, "x", "Too many requests, please try again later.\n", { "Retry-After": "2" });
        const f = toApiFailure(err);
        assert.equal(f.isStatus, false);
        assert.equal(f.retryAfterSeconds, 2);
        assert.equal(f.message, "Too many requests, please try again later.");
        assert.equal(classifyEvictionError(err, "a/b").kind, "transient");
    });
    it("NamespaceTerminating 403", () => {
        const body = status(
            403,
            "Forbidden",
            'pods "p" is forbidden: unable to create new content in namespace gone because it is being terminated',
            {
                causes: [{ reason: "NamespaceTerminating", message: "namespace gone is being terminated", field: "metadata.namespace" }],
            },
        );
        const f = toApiFailure(new ApiException(403, "x", body, {}));
        assert.ok(isNamespaceTerminating(f));
        assert.equal(classifyEvictionError(new ApiException(403, "x", body, {}), "gone/p").kind, "namespace-terminating");
    });
    it("multiple-PDB 500 is fatal and names the pod; other 5xx are transient", () => {
        const body = JSON.stringify({
            kind: "Status",
            apiVersion: "v1",
            metadata: {},
            status: "Failure",
            message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            code: 500,
        });
        const err = new ApiException(500, "x", body, {});
        assert.ok(isMultiplePdbRefusal(toApiFailure(err)));
        const o = classifyEvictionError(err, "default/web-1");
        assert.equal(o.kind, "fatal");
        assert.match((o as { message: string }).message, /pod default\/web-1 matches more than one PodDisruptionBudget/);
        assert.equal(
            classifyEvictionError(new ApiException(503, "x", status(503, "ServiceUnavailable", "try later"), {}), "a/b").kind,
            "transient",
        );
        assert.equal(classifyEvictionError(new ApiException(500, "x", "<html>oops</html>", {}), "a/b").kind, "transient");
    });
    it("a plain 403 or 409 on eviction is fatal like kubectl", () => {
        const o = classifyEvictionError(
            new ApiException(
                403,
                "x",
                status(403, "Forbidden", 'poddisruptionbudget.policy "web" is forbidden: pdb disruptions allowed is negative'),
                {},
            ),
            "d/p",
        );
        assert.equal(o.kind, "fatal");
        assert.match((o as { message: string }).message, /disruptions allowed is negative/);
    });
    it("delete: 404 done, 5xx transient, others fatal", () => {
        assert.equal(classifyDeleteError(new ApiException(404, "x", status(404, "NotFound", "gone"), {}), "a/b").kind, "not-found");
        assert.equal(classifyDeleteError(new ApiException(502, "x", "", {}), "a/b").kind, "transient");
        assert.equal(classifyDeleteError(new ApiException(409, "x", status(409, "Conflict", "uid mismatch"), {}), "a/b").kind, "fatal");
    });
    it("connection errors are transient and say nothing about URLs' query strings", () => {
        const e = Object.assign(new Error("request to https://10.0.0.1:6443/api/v1/pods?token=abc failed, reason: socket hang up"), {
            code: "ECONNRESET",
            name: "FetchError",
        });
        const f = toApiFailure(e);
        assert.equal(f.code, 0);
        assert.ok(isTransient(f));
        assert.doesNotMatch(describeFailure(f), /token=abc/);
    });
    it("names network failures in words; TLS failures are not retried", () => {
        const refused = toApiFailure(Object.assign(new Error("x"), { code: "ECONNREFUSED" }));
        assert.equal(refused.message, "cannot reach the API server: connection refused (ECONNREFUSED)");
        assert.ok(isTransient(refused));
        const tls = toApiFailure(Object.assign(new Error("self signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }));
        assert.match(tls.message, /TLS error DEPTH_ZERO_SELF_SIGNED_CERT/);
        assert.ok(!isTransient(tls));
    });
    it("never repeats the raw ApiException message (it embeds headers and body)", () => {
        const err = new ApiException(500, "x", "secret-looking-body-that-is-very-long".repeat(20), { authorization: "Bearer zzz" });
        assert.doesNotMatch(describeFailure(toApiFailure(err)), /zzz|secret-looking/);
    });
});

describe("drain/retry", () => {
    it("backoff grows exponentially, is capped, and jitters within bounds", () => {
        const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.5, random: () => 1 });
        assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000, 1000]);
        const low = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0 });
        assert.deepEqual([low.next(), low.next()], [50, 100]);
    });
    it("Retry-After wins over the computed delay and is capped", () => {
        const b = new Backoff({ maxRetryAfterMs: 30_000 });
        assert.equal(b.next(10), 10_000);
        assert.equal(b.next(3600), 30_000);
    });
    it("withRetry retries transient errors and then succeeds", async () => {
        let calls = 0;
        const retries: number[] = [];
        const value = await withRetry(
            "thing",
            async () => {
                calls++;
                if (calls < 3) throw new ApiException(503, "x", status(503, "ServiceUnavailable", "busy"), {});
                return 42;
            },
            { backoff: { initialMs: 1, maxMs: 2 }, onRetry: (_f, _d, attempt) => retries.push(attempt) },
        );
        assert.equal(value, 42);
        assert.equal(calls, 3);
        assert.deepEqual(retries, [1, 2]);
    });
    it("withRetry does not retry a 404 and names what failed", async () => {
        await assert.rejects(
            withRetry('get node "w"', async () => {
                throw new ApiException(404, "x", status(404, "NotFound", 'nodes "w" not found'), {});
            }),
            /get node "w": nodes "w" not found \(HTTP 404 NotFound\)/,
        );
    });
    it("a Deadline aborts sleeps with DeadlineExceeded('timeout')", async () => {
        const d = new Deadline(0.05);
        await assert.rejects(sleep(5000, d.signal), (e: unknown) => e instanceof DeadlineExceeded && e.cause === "timeout");
        assert.equal(d.over, "timeout");
    });
    it("a Deadline follows its parent signal ('cancelled') and 0 means no limit", async () => {
        const parent = new AbortController();
        const d = new Deadline(0, parent.signal);
        assert.equal(d.remainingMs(), Infinity);
        parent.abort();
        assert.equal(d.over, "cancelled");
        assert.throws(() => d.throwIfOver(), DeadlineExceeded);
    });
});

describe("kube-rules/label-selector", () => {
    it("matches PDB selectors with policy/v1 semantics", () => {
        const labels = { app: "web", tier: "front" };
        assert.equal(selectorMatches(undefined, labels), false, "null selector matches nothing");
        assert.equal(selectorMatches({}, labels), true, "empty selector matches everything");
        assert.equal(selectorMatches({ matchLabels: { app: "web" } }, labels), true);
        assert.equal(selectorMatches({ matchLabels: { app: "db" } }, labels), false);
        assert.equal(selectorMatches({ matchExpressions: [{ key: "tier", operator: "In", values: ["front", "x"] }] }, labels), true);
        assert.equal(selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["front"] }] }, labels), false);
        assert.equal(selectorMatches({ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, labels), true);
        assert.equal(selectorMatches({ matchExpressions: [{ key: "zone", operator: "Exists" }] }, labels), false);
        assert.equal(selectorMatches({ matchExpressions: [{ key: "app", operator: "Bogus" }] }, labels), false);
    });
    it("parses and evaluates textual selectors", () => {
        const r = parseLabelSelector("app=web, tier!=db,env in (prod, staging),!legacy,team");
        assert.equal(r.length, 5);
        assert.ok(requirementsMatch(r, { app: "web", env: "prod", team: "a" }));
        assert.ok(!requirementsMatch(r, { app: "web", env: "dev", team: "a" }));
        assert.ok(!requirementsMatch(r, { app: "web", env: "prod", team: "a", legacy: "1" }));
        assert.deepEqual(parseLabelSelector(""), []);
        assert.deepEqual(parseLabelSelector("a==b")[0], { key: "a", op: "=", values: ["b"] });
    });
    it("rejects invalid selectors", () => {
        for (const bad of ["app=web,", "a in (b", "=x", "a=b=c", "app=-bad", "!"]) assert.throws(() => parseLabelSelector(bad), Error, bad);
    });
});

describe("drain/budgets messages", () => {
    const pdb = (status: object, generation = 1) =>
        ({
            metadata: { namespace: "default", name: "web-pdb", generation },
            spec: { selector: {} },
            status: { observedGeneration: 1, ...status },
        }) as V1PodDisruptionBudget;
    it("names the budget and its numbers", () => {
        const p = pdb({ desiredHealthy: 10, currentHealthy: 10, expectedPods: 11, disruptionsAllowed: 0 });
        assert.equal(
            describeBudgetBlock(p),
            "PodDisruptionBudget default/web-pdb allows no disruption (needs 10 healthy pods and has 10; 0 disruptions allowed)",
        );
        assert.equal(describeBudgetWait(p), "PodDisruptionBudget default/web-pdb (needs 10 healthy pods, has 10)");
        assert.deepEqual(budgetNumbers(p), {
            namespace: "default",
            name: "web-pdb",
            desiredHealthy: 10,
            currentHealthy: 10,
            expectedPods: 11,
            disruptionsAllowed: 0,
        });
        assert.equal(budgetAllowsDisruption(p), false);
        assert.equal(
            describeBudgetBlock(pdb({ desiredHealthy: 1, currentHealthy: 1, disruptionsAllowed: 0 })),
            "PodDisruptionBudget default/web-pdb allows no disruption (needs 1 healthy pod and has 1; 0 disruptions allowed)",
        );
    });
    it("a budget whose status lags its spec allows nothing yet", () => {
        const p = pdb({ disruptionsAllowed: 3 }, 2);
        assert.ok(budgetIsStale(p));
        assert.equal(budgetAllowsDisruption(p), false);
        assert.match(describeBudgetBlock(p), /still being processed .*generation 2, observed 1/);
        assert.equal(budgetAllowsDisruption(pdb({ disruptionsAllowed: 1 })), true);
    });
    it("reports a failed sync", () => {
        const p = pdb({
            disruptionsAllowed: 0,
            conditions: [{ type: "DisruptionAllowed", status: "False", reason: "SyncFailed", message: 'found no controllers for pod "x"' }],
        });
        assert.match(describeBudgetBlock(p), /failed to sync it: found no controllers for pod "x"/);
    });
});

describe("drain/progress-format", () => {
    it("uses kubectl's words", () => {
        assert.equal(formatProgress({ type: "cordoned", node: "worker1", alreadyCordoned: false }), "node/worker1 cordoned");
        assert.equal(formatProgress({ type: "cordoned", node: "worker1", alreadyCordoned: true }), "node/worker1 already cordoned");
        assert.equal(
            formatProgress({ type: "cordoned", node: "w", alreadyCordoned: false, dryRun: "server" }),
            "node/w cordoned (server dry run)",
        );
        assert.equal(formatProgress({ type: "uncordoned", node: "w", alreadyUncordoned: false }), "node/w uncordoned");
        assert.equal(formatProgress({ type: "uncordoned", node: "w", alreadyUncordoned: true }), "node/w already uncordoned");
        assert.match(formatProgress({ type: "uncordoned", node: "w", alreadyUncordoned: false, notOurs: true }), /left cordoned/);
        assert.equal(formatProgress({ type: "evicting", node: "w", pod: "default/web-1" }), "evicting pod default/web-1");
        assert.equal(
            formatProgress({ type: "evicting", node: "w", pod: "default/web-1", dryRun: "client" }),
            "evicting pod default/web-1 (dry run)",
        );
        assert.equal(formatProgress({ type: "evicting", node: "w", pod: "default/web-1", delete: true }), "deleting pod default/web-1");
        assert.equal(
            formatProgress({ type: "pod-gone", node: "w", pod: "default/web-1", how: "evicted", remaining: 2 }),
            "pod/web-1 evicted",
        );
        assert.equal(
            formatProgress({ type: "pod-gone", node: "w", pod: "default/web-1", how: "deleted", remaining: 0 }),
            "pod/web-1 deleted",
        );
        assert.equal(
            formatProgress({ type: "pod-gone", node: "w", pod: "default/web-1", how: "skipped", remaining: 0, skipWaitSeconds: 5 }),
            'pod "web-1" has DeletionTimestamp older than 5 seconds, skipping',
        );
        assert.equal(formatProgress({ type: "drained", node: "worker1", evicted: 3, seconds: 1 }), "node/worker1 drained");
        assert.equal(formatProgress({ type: "node-ready", node: "worker1", kubeletVersion: "v1.20.0" }), "node/worker1 Ready at v1.20.0");
        const msg = "pod default/web-1 waiting on PodDisruptionBudget default/web-pdb (needs 10 healthy pods, has 10)";
        assert.equal(formatProgress({ type: "waiting-on-budget", node: "w", pod: "default/web-1", message: msg }), msg);
        assert.equal(
            formatProgress({ type: "classified", node: "w", evict: 3, skip: 1, blocked: 0, warnings: [] }),
            "node/w: 3 pods to evict, 1 left in place",
        );
    });
    it("describes what a terminating pod waits for", () => {
        const p = {
            metadata: {
                name: "x",
                deletionTimestamp: new Date("2026-01-01T00:00:00Z"),
                deletionGracePeriodSeconds: 30,
                finalizers: ["example.com/keep"],
            },
        };
        assert.equal(
            describeTermination(p),
            "waiting for termination (deletionTimestamp 2026-01-01T00:00:00.000Z, grace 30s, finalizers [example.com/keep])",
        );
    });
});

describe("drain/wait-for-node version matching", () => {
    it("normalises v prefixes and distribution builds", () => {
        assert.ok(kubeletVersionMatches("v1.20.0", "1.20.0"));
        assert.ok(kubeletVersionMatches("1.20.0", "v1.20.0"));
        assert.ok(kubeletVersionMatches("v1.20.0+k3s1", "v1.20.0"));
        assert.ok(kubeletVersionMatches("v1.20.0-eks-1a2b3c", "1.20.0"));
        assert.ok(!kubeletVersionMatches("v1.19.0", "v1.20.0"));
        assert.ok(!kubeletVersionMatches("v1.20.1", "v1.20.0"));
        assert.ok(!kubeletVersionMatches("", "v1.20.0"));
        assert.ok(kubeletVersionMatches("v1.21.0-rc.1", "v1.21.0-rc.1"));
        assert.ok(!kubeletVersionMatches("v1.21.0-rc.1", "v1.21.0-rc.2"));
    });
});

describe("drain/kube-client loadKubeConfig", () => {
    const good = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: "super-secret-token"}
contexts:
- name: ctx
  context: {cluster: c, user: u}
- name: other
  context: {cluster: c, user: u}
current-context: ctx
`;
    it("loads YAML text and switches context", () => {
        assert.equal(loadKubeConfig({ kubeconfig: good }).getCurrentContext(), "ctx");
        assert.equal(loadKubeConfig({ kubeconfig: good, context: "other" }).getCurrentContext(), "other");
    });
    it("loads a file", () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kc-")), "config");
        fs.writeFileSync(file, good);
        assert.equal(loadKubeConfig({ kubeconfigPath: file }).getCurrentCluster()?.server, "https://127.0.0.1:6443");
    });
    it("errors never echo the content", () => {
        const broken = good.replace("users:", "users: [unclosed: super-secret-token");
        for (const src of [
            { kubeconfig: broken },
            { kubeconfig: "token: super-secret-token\n\t- :" },
            { kubeconfig: "  " },
            { kubeconfig: good, context: "nope" },
        ]) {
            assert.throws(
                () => loadKubeConfig(src),
                (e: unknown) => e instanceof KubeConfigError && !/super-secret-token/.test((e as Error).message),
            );
        }
        assert.throws(() => loadKubeConfig({ kubeconfig: good, context: "nope" }), /context "nope" not found/);
        assert.throws(() => loadKubeConfig({ kubeconfigPath: "/nonexistent/kubeconfig" }), /file not found/);
    });
});
