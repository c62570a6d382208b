// How the locks and gates treat failed API calls: a refusal that waiting cannot change (403 for a missing
// permission, 400/422, a 404 for a path the server does not serve, a wrong address) ends the wait at once with
// what to fix; a 429/5xx/reset is waited out with the progress message. They go through the drain engine's client,
// so a 404 only means "kured is not installed" when the server says the DaemonSet does not exist.
import assert from "node:assert/strict";
import { clientFor, loadKubeConfig } from "../../drain";
import {
    acquireAndCheck,
    checkGate,
    kuredLockGate,
    preflight,
    readKuredLock,
    SharedClusterBlockedError,
    waitUntil,
    type Gate,
} from "../../shared-cluster";
import { Events, freePort, JumpClock, kuredDaemonSet, simPerTest } from "./helpers";

const ME = "pulumi:infra/prod alice@build-01";
const USER = "system:serviceaccount:kube-system:node-upgrade";
const TEN_MINUTES = 10 * 60_000;

/** client-node's ApiException, as it throws one for an HTTP error (body: the JSON Status). */
function apiException(code: number, reason: string, message: string): Error {
    return Object.assign(new Error(`HTTP-Code: ${code}`), {
        code,
        body: JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message }),
        headers: {},
    });
}

const throwing = (err: unknown): Gate => ({
    name: "g",
    check: async () => {
        throw err;
    },
});

describe("shared-cluster: API errors in locks and gates", function () {
    this.timeout(60_000);
    const sim = simPerTest();

    it("checkGate: 400, 401, 403, 404 and 422 are final, with what to fix; 429, 5xx, resets and timeouts are retried", async () => {
        const final = [
            [
                apiException(400, "BadRequest", "unable to parse requirement"),
                /\(HTTP 400 BadRequest\); the API server rejected the request as invalid/,
            ],
            [apiException(401, "Unauthorized", "Unauthorized"), /401 Unauthorized: the kubeconfig's credentials were refused/],
            [
                apiException(
                    403,
                    "Forbidden",
                    `pods is forbidden: User "${USER}" cannot list resource "pods" in API group "" at the cluster scope`,
                ),
                /\(HTTP 403 Forbidden\); grant the kubeconfig's user this permission: deploy\/rbac\.yaml/,
            ],
            [
                apiException(404, "NotFound", "the server could not find the requested resource"),
                /\(HTTP 404 NotFound\); the API server does not serve this path/,
            ],
            [
                apiException(422, "Invalid", "Lease.coordination.k8s.io is invalid"),
                /\(HTTP 422 Invalid\); the API server rejected the request as invalid/,
            ],
        ] as const;
        for (const [err, re] of final) {
            const r = await checkGate(throwing(err));
            assert.ok(!r.ok && r.final, `${(err as any).code} is final`);
            assert.match((r as any).reason, /^the check failed, and waiting cannot help: /);
            assert.match((r as any).reason, re);
        }
        const reset = Object.assign(new Error("request to https://10.0.0.1:6443/api failed"), { name: "FetchError", code: "ECONNRESET" });
        const timeout = Object.assign(new Error("request timed out after 30s"), { name: "RequestTimeoutError" });
        const transient = [
            apiException(429, "TooManyRequests", "too many requests"),
            apiException(500, "InternalError", "etcd leader changed"),
            apiException(503, "ServiceUnavailable", "the server is currently unable to handle the request"),
            apiException(504, "Timeout", "the server was unable to return a response in the time allotted"),
            reset,
            timeout,
            new Error("check command: cannot start /usr/local/bin/db-ok"),
        ];
        for (const err of transient) {
            const r = await checkGate(throwing(err));
            assert.ok(!r.ok && !r.final, `${err.message} is retried`);
            assert.match((r as any).reason, /^the check failed: /);
        }
    });

    it("a pod gate whose user may not list pods (403) stops at once, naming the gate, the status and the fix", async () => {
        // the user may take the Lease (node-upgrade-lease's rules) but not list pods
        const rules = [{ verbs: ["create", "get", "update"], apiGroups: ["coordination.k8s.io"], resources: ["leases"] }];
        const { c } = await sim({ rbac: { rules, user: USER } });
        const kc = loadKubeConfig({ kubeconfig: c.rbac!.kubeconfig });
        const ev = new Events();
        const err = await acquireAndCheck(
            kc,
            { holderIdentity: ME, lock: true, gates: [{ type: "pods", selector: "app=backup" }], gatesTimeoutMs: TEN_MINUTES },
            "worker1",
            { clock: new JumpClock(), onProgress: ev.push },
        ).catch((e) => e);
        assert.ok(err instanceof SharedClusterBlockedError, String(err));
        assert.equal(err.item, "gates");
        assert.equal(err.gateError?.timedOut, false, "did not wait for the gates' timeout");
        assert.match(
            err.message,
            new RegExp(
                "^not starting: blocked by health gates for worker1: blocking pods app=backup: the check failed, and waiting cannot help: " +
                    "cannot list pods matching app=backup: pods is forbidden: .*\\(HTTP 403 Forbidden\\); grant the kubeconfig's user this permission",
            ),
        );
        assert.deepEqual(ev.messages("waiting"), [], "no 'waiting' progress for a refusal");
        const lists = c.requestLog().filter((r) => r.user === USER && r.resource === "pods");
        assert.equal(lists.length, 1, "asked once");
        assert.equal(c.get("Lease", "kube-system", "node-upgrade").spec.holderIdentity, undefined, "the Lease was given back");
    });

    it("the same gate waits out 503s (reporting them) but stops at once at a 422 from the API server", async () => {
        const { c, kc } = await sim();
        const gates = [{ type: "pods" as const, selector: "app=backup" }];
        c.faults.add({ verb: "list", resource: "pods", status: 503, count: 2 });
        const ev = new Events();
        const s = await acquireAndCheck(kc, { holderIdentity: ME, gates, gatesTimeoutMs: TEN_MINUTES }, "worker1", {
            clock: new JumpClock(),
            onProgress: ev.push,
        });
        await s.release();
        assert.match(ev.messages("waiting")[0], /^waiting for health gates for worker1: .*the check failed: .*\(HTTP 503 /);

        c.faults.add({ verb: "list", resource: "pods", status: 422, count: 1, message: "fieldSelector: unsupported" });
        const err = await acquireAndCheck(kc, { holderIdentity: ME, gates, gatesTimeoutMs: TEN_MINUTES }, "worker1", {
            clock: new JumpClock(),
        }).catch((e) => e);
        assert.ok(err instanceof SharedClusterBlockedError, String(err));
        assert.equal(err.gateError?.timedOut, false);
        assert.match(err.message, /\(HTTP 422[^)]*\); the API server rejected the request as invalid: fix the gate's settings/);
    });

    it("with no timeout (the default), a 503 blip on the Lease or a gate is ridden out: up to 4 retries over 15 s, then it gives up", async () => {
        const { c, kc } = await sim();
        const gates = [{ type: "pods" as const, selector: "app=backup" }];
        c.faults.add({ verb: "get", resource: "leases", status: 503, count: 1 });
        c.faults.add({ verb: "list", resource: "pods", status: 503, count: 2 });
        const clock = new JumpClock();
        const ev = new Events();
        const s = await acquireAndCheck(kc, { holderIdentity: ME, lock: true, gates }, "worker1", { clock, onProgress: ev.push });
        assert.equal(c.get("Lease", "kube-system", "node-upgrade").spec.holderIdentity, ME, "the Lease was taken after the 503");
        await s.release();
        const retries = ev.all.map((e) => e.message).filter((m) => /; checking again in \d+s \(\d+s left\)$/.test(m));
        assert.equal(retries.length, 3, ev.all.map((e) => e.message).join("\n"));
        assert.match(retries[0], /lease kube-system\/node-upgrade.*\(HTTP 503 .*; checking again in 1s \(15s left\)$/);

        // a 503 that does not go away: the first check and 4 retries (1+2+4+8 s on the gate's clock), then it stops
        c.faults.add({ verb: "list", resource: "pods", status: 503, count: 100 });
        const started = clock.now();
        const err = await acquireAndCheck(kc, { holderIdentity: ME, gates }, "worker1", { clock }).catch((e) => e);
        assert.ok(err instanceof SharedClusterBlockedError, String(err));
        assert.match(err.message, /the check failed: .*\(HTTP 503 /);
        assert.equal(clock.now() - started, 15_000);
        assert.equal(c.requestLog().filter((r) => r.resource === "pods" && r.status === 503).length, 2 + 5);
    });

    it("a Lease in a namespace that does not exist: stops at once and says to create the namespace (not a wrong-path hint)", async () => {
        const { kc } = await sim();
        const err = await acquireAndCheck(kc, { holderIdentity: ME, lock: { namespace: "infra-locks" } }, "worker1", {
            clock: new JumpClock(),
        }).catch((e) => e);
        assert.ok(err instanceof SharedClusterBlockedError, String(err));
        assert.match(
            err.message,
            /namespaces "infra-locks" not found \(HTTP 404 NotFound\); create namespace infra-locks first, or fix the setting that names it$/,
        );
        assert.doesNotMatch(err.message, /does not serve this path/);
    });

    it("a 404 for a path the server does not serve is an error, not 'kured is not installed' nor 'no Lease yet'", async () => {
        const { c } = await sim();
        c.apply(kuredDaemonSet());
        // a wrong path prefix in the server address: every request gets the server's 404 for an unknown path
        const server = /server: (\S+)/.exec(c.kubeconfig)![1];
        const kc = loadKubeConfig({ kubeconfig: c.kubeconfig.replace(`server: ${server}`, `server: ${server}/not-the-api`) });
        await assert.rejects(readKuredLock(kc), {
            message: "cannot read DaemonSet kube-system/kured: the server could not find the requested resource (HTTP 404 NotFound)",
        });
        const gate = await waitUntil(kuredLockGate(kc, {}), TEN_MINUTES, undefined, { clock: new JumpClock() }).catch((e) => e);
        assert.equal(gate.timedOut, false);
        assert.match(gate.message, /waiting cannot help: .*\(HTTP 404 NotFound\); the API server does not serve this path/);
        const report = await preflight(kc, { holderIdentity: ME, lock: true, kuredLock: true });
        assert.deepEqual(
            report.items.map((i) => [i.item, i.ok]),
            [
                ["lease", false],
                ["kured", false],
            ],
        );
        // the real "not found" still means not installed
        c.delete("DaemonSet", "kube-system", "kured");
        assert.equal((await readKuredLock(loadKubeConfig({ kubeconfig: c.kubeconfig }))).daemonSetExists, false);
    });

    it("the locks use the drain engine's client: a refused connection at first contact fails at once (CLI's fail-fast)", async () => {
        const port = await freePort();
        const { c } = await sim();
        const server = /server: (\S+)/.exec(c.kubeconfig)![1];
        const kc = loadKubeConfig({ kubeconfig: c.kubeconfig.replace(`server: ${server}`, `server: https://127.0.0.1:${port}`) });
        clientFor(kc, { failFastUntilReached: true }); // as the CLI sets it up
        const err = await acquireAndCheck(kc, { holderIdentity: ME, lock: { timeoutMs: TEN_MINUTES } }, "worker1", {
            clock: new JumpClock(),
        }).catch((e) => e);
        assert.ok(err instanceof SharedClusterBlockedError, String(err));
        assert.equal(err.gateError?.timedOut, false);
        assert.match(
            err.message,
            new RegExp(
                `cannot reach the API server https://127\\.0\\.0\\.1:${port}: connection refused \\(ECONNREFUSED\\); check the server address`,
            ),
        );
    });
});
