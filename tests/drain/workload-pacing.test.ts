// Unit tests of workload-aware pacing's pure decisions (drain/workload-pacing.ts): which pods are paced, how
// Ready replicas are counted, when a pod may go, and the texts users see.
import assert from "node:assert/strict";
import type { V1Pod } from "@kubernetes/client-node";
import {
    countsAsReady,
    decideEviction,
    describeWorkloadWait,
    displayWorkload,
    isPaced,
    pacedWorkloadOf,
    readyReplicas,
    selectorQuery,
    workloadKey,
} from "../../drain/workload-pacing";
import { formatProgress } from "../../drain/progress-format";

function pod(
    name: string,
    o: {
        kind?: string;
        apiVersion?: string;
        owner?: string;
        uid?: string;
        ready?: boolean;
        terminating?: boolean;
        controller?: boolean;
    } = {},
): V1Pod {
    const owner = o.kind === undefined && o.owner === undefined ? "web-5d8f" : o.owner;
    return {
        metadata: {
            name,
            namespace: "default",
            uid: `uid-${name}`,
            ...(o.terminating ? { deletionTimestamp: new Date(0) } : {}),
            ownerReferences:
                owner === ""
                    ? []
                    : [
                          {
                              apiVersion: o.apiVersion ?? "apps/v1",
                              kind: o.kind ?? "ReplicaSet",
                              name: owner ?? "web-5d8f",
                              uid: o.uid ?? "rs-uid",
                              controller: o.controller ?? true,
                          },
                      ],
        },
        status: { conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }] },
    };
}

describe("workload pacing: pure decisions", () => {
    describe("pacedWorkloadOf", () => {
        it("paces ReplicaSet, StatefulSet (apps or extensions) and ReplicationController pods", () => {
            assert.deepEqual(pacedWorkloadOf(pod("a")), { namespace: "default", kind: "ReplicaSet", name: "web-5d8f", uid: "rs-uid" });
            assert.equal(pacedWorkloadOf(pod("a", { kind: "StatefulSet", owner: "db" }))?.kind, "StatefulSet");
            assert.equal(pacedWorkloadOf(pod("a", { kind: "ReplicaSet", apiVersion: "extensions/v1beta1" }))?.kind, "ReplicaSet");
            assert.equal(
                pacedWorkloadOf(pod("a", { kind: "ReplicationController", apiVersion: "v1", owner: "rc" }))?.kind,
                "ReplicationController",
            );
            assert.equal(workloadKey(pacedWorkloadOf(pod("a"))!), "ReplicaSet default/web-5d8f");
        });
        it("does not pace DaemonSet, Job, custom-controller, non-controller-owned or bare pods", () => {
            assert.equal(pacedWorkloadOf(pod("a", { kind: "DaemonSet", owner: "ds" })), undefined);
            assert.equal(pacedWorkloadOf(pod("a", { kind: "Job", apiVersion: "batch/v1", owner: "j" })), undefined);
            assert.equal(pacedWorkloadOf(pod("a", { kind: "ReplicaSet", apiVersion: "example.com/v1", owner: "x" })), undefined);
            assert.equal(pacedWorkloadOf(pod("a", { kind: "ReplicationController", apiVersion: "apps/v1", owner: "x" })), undefined);
            assert.equal(pacedWorkloadOf(pod("a", { controller: false })), undefined);
            assert.equal(pacedWorkloadOf(pod("a", { owner: "" })), undefined);
        });
        it("reports a ReplicaSet as the Deployment that controls it", () => {
            const ref = pacedWorkloadOf(pod("a"))!;
            assert.deepEqual(
                displayWorkload(ref, [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d", controller: true }]),
                { kind: "Deployment", name: "web" },
            );
            assert.deepEqual(displayWorkload(ref, []), { kind: "ReplicaSet", name: "web-5d8f" });
            assert.deepEqual(displayWorkload(ref, [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d" }]), {
                kind: "ReplicaSet",
                name: "web-5d8f",
            });
            const sts = pacedWorkloadOf(pod("db-0", { kind: "StatefulSet", owner: "db" }))!;
            assert.deepEqual(displayWorkload(sts, undefined), { kind: "StatefulSet", name: "db" });
        });
    });

    describe("counting Ready replicas", () => {
        it("counts Ready pods of the controller that are neither terminating nor being evicted by this drain", () => {
            const pods = [
                pod("a"),
                pod("b"),
                pod("c", { ready: false }),
                pod("d", { terminating: true }),
                pod("e"),
                pod("other", { uid: "another-rs" }),
            ];
            const evicting = new Set(["uid-e"]);
            assert.equal(readyReplicas(pods, "rs-uid", evicting), 2);
            assert.equal(readyReplicas(pods, "rs-uid", new Set()), 3);
            assert.equal(countsAsReady(pods[4], evicting), false);
            assert.equal(countsAsReady(pods[0], evicting), true);
        });
    });

    describe("decideEviction", () => {
        const d = (maxUnavailable: number, desiredReplicas: number, readyReplicas: number, candidateReady = true) =>
            decideEviction({ maxUnavailable, desiredReplicas, readyReplicas, candidateReady });
        it("evicts a Ready pod only when the workload keeps desired − N Ready replicas afterwards", () => {
            assert.deepEqual(d(1, 10, 10), { allow: true, requiredReady: 10 });
            assert.deepEqual(d(1, 10, 9), { allow: false, requiredReady: 10 });
            assert.deepEqual(d(2, 10, 9), { allow: true, requiredReady: 9 });
            assert.deepEqual(d(2, 10, 8), { allow: false, requiredReady: 9 });
            assert.deepEqual(d(1, 2, 1), { allow: false, requiredReady: 2 });
            assert.deepEqual(d(1, 10, 11), { allow: true, requiredReady: 10 }, "a surge above desired is spare");
        });
        it("never holds a pod that is not Ready, nor anything when pacing is off", () => {
            assert.equal(d(1, 10, 5, false).allow, true);
            assert.equal(d(0, 10, 0).allow, true);
        });
        it("a workload with replicas ≤ N never waits", () => {
            assert.equal(d(1, 1, 1).allow, true);
            assert.equal(d(3, 2, 1).allow, true);
            assert.equal(d(1, 0, 1).allow, true);
        });
        it("draining 6 of 10 replicas one by one keeps at least 9 Ready at every step", () => {
            // A tiny model of the drain: pods on the node leave one at a time, a replacement becomes Ready later.
            const N = 1;
            const desired = 10;
            let readyElsewhere = 4;
            let onNode = 6;
            let evictingNow = 0;
            let minReady = Infinity;
            let steps = 0;
            while (onNode > 0 || evictingNow > 0) {
                if (++steps > 100) assert.fail("did not converge");
                const ready = readyElsewhere + onNode;
                minReady = Math.min(minReady, ready);
                if (onNode > 0 && d(N, desired, ready).allow) {
                    onNode--;
                    evictingNow++;
                } else {
                    // the replacement of one evicted pod becomes Ready elsewhere
                    evictingNow--;
                    readyElsewhere++;
                }
            }
            assert.equal(minReady, 9);
            assert.equal(readyElsewhere, 10);
        });
    });

    describe("isPaced", () => {
        const ref = pacedWorkloadOf(pod("a"));
        const base = { maxUnavailable: 1, dryRunServer: false, deleting: false, coveredByBudget: false, workload: ref };
        it("paces uncovered workloads; leaves budget-covered ones to their PodDisruptionBudget", () => {
            assert.equal(isPaced(base), true);
            assert.equal(isPaced({ ...base, coveredByBudget: true }), false);
        });
        it("paces covered workloads too when pods are deleted (no budget is checked then)", () => {
            assert.equal(isPaced({ ...base, coveredByBudget: true, deleting: true }), true);
        });
        it("is off with N = 0, in a server dry run, and for pods without a paced controller", () => {
            assert.equal(isPaced({ ...base, maxUnavailable: 0 }), false);
            assert.equal(isPaced({ ...base, dryRunServer: true }), false);
            assert.equal(isPaced({ ...base, workload: undefined }), false);
        });
    });

    describe("texts", () => {
        const numbers = {
            namespace: "default",
            kind: "Deployment",
            name: "http-go",
            desiredReplicas: 10,
            readyReplicas: 9,
            requiredReady: 10,
            maxUnavailable: 1,
        };
        it("says which workload the pod waits for, with the numbers", () => {
            assert.equal(
                describeWorkloadWait(numbers),
                "waiting for default/http-go to have 10 Ready replicas (has 9; maxUnavailablePerWorkload 1)",
            );
        });
        it("formatProgress prints the waiting-on-workload message", () => {
            const message = `pod default/http-go-1 ${describeWorkloadWait(numbers)}`;
            assert.equal(
                formatProgress({ type: "waiting-on-workload", node: "w1", pod: "default/http-go-1", workload: numbers, message }),
                message,
            );
        });
    });

    describe("selectorQuery", () => {
        it("turns a label selector object into labelSelector text", () => {
            assert.equal(
                selectorQuery({
                    matchLabels: { app: "web", tier: "fe" },
                    matchExpressions: [
                        { key: "env", operator: "In", values: ["a", "b"] },
                        { key: "x", operator: "NotIn", values: ["c"] },
                        { key: "y", operator: "Exists" },
                        { key: "z", operator: "DoesNotExist" },
                    ],
                }),
                "app=web,tier=fe,env in (a,b),x notin (c),y,!z",
            );
        });
        it("takes a ReplicationController's plain map; nothing to filter on gives undefined", () => {
            assert.equal(selectorQuery({ app: "rc" }), "app=rc");
            assert.equal(selectorQuery({}), undefined);
            assert.equal(selectorQuery({ matchLabels: {} }), undefined);
            assert.equal(selectorQuery(undefined), undefined);
            assert.equal(selectorQuery({ matchExpressions: [{ key: "k", operator: "Weird" }] }), undefined);
        });
    });
});
