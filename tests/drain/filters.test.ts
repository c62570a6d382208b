// kubectl's filter chain (drain-spec §3) under every flag combination.
import assert from "node:assert/strict";
import type { V1Pod } from "@kubernetes/client-node";
import * as fs from "node:fs";
import { classifyPod, classifyPods } from "../../drain/filters";
import type { DrainOptions, FilterContext } from "../../drain/types";
import { KUBECTL, requireKubectl } from "../helpers/sim-kubectl";

/**
 * kubectl's own words, copied from k8s.io/kubectl/pkg/drain/filters.go (the constants daemonSetFatal,
 * daemonSetWarning, localStorageFatal, unmanagedWarning), not from our code. kubectl prints an error as
 * `cannot delete <constant>: ns/pod, ...` and a warning as `<constant>: ns/pod, ...`.
 * The unmanaged error is the one whose text depends on the version (drain-spec §3.2): kubectl 1.30–1.35 have
 * unmanagedFatal = "cannot delete Pods that declare no controller (use --force to override)" and so print
 * "cannot delete cannot delete Pods that ..." (the real kubectl 1.32 output); 1.36 prints it once. The drain
 * follows 1.36: `cannot delete ${UNMANAGED_FATAL_1_36}`.
 */
const KUBECTL_TEXT = {
    daemonSetFatal: "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)",
    daemonSetWarning: "ignoring DaemonSet-managed Pods",
    localStorageFatal: "Pods with local storage (use --delete-emptydir-data to override)",
    unmanagedFatal_1_30: "cannot delete Pods that declare no controller (use --force to override)",
    unmanagedWarning: "deleting Pods that declare no controller",
};
const UNMANAGED_FATAL_1_36 = KUBECTL_TEXT.unmanagedFatal_1_30.replace(/^cannot delete /, "");

interface PodSpec {
    name: string;
    ns?: string;
    owner?: { kind: string; apiVersion: string; name: string; controller?: boolean };
    phase?: string;
    emptyDir?: boolean;
    mirror?: boolean;
    deletedSecondsAgo?: number;
}

const NOW = new Date("2026-01-01T12:00:00Z");

function pod(s: PodSpec): V1Pod {
    return {
        metadata: {
            name: s.name,
            namespace: s.ns ?? "default",
            uid: `uid-${s.name}`,
            annotations: s.mirror ? { "kubernetes.io/config.mirror": "abc" } : undefined,
            ownerReferences: s.owner ? [{ ...s.owner, uid: "x", controller: s.owner.controller ?? true }] : undefined,
            deletionTimestamp: s.deletedSecondsAgo !== undefined ? new Date(NOW.getTime() - s.deletedSecondsAgo * 1000) : undefined,
        },
        spec: {
            containers: [{ name: "c" }],
            volumes: s.emptyDir ? [{ name: "scratch", emptyDir: {} }] : [{ name: "cfg", configMap: { name: "x" } }],
        },
        status: { phase: s.phase ?? "Running" },
    };
}

const existingDaemonSets = new Set(["kube-system/kube-proxy"]);
const ctx: FilterContext = { now: NOW, daemonSetExists: (ns, name) => existingDaemonSets.has(`${ns}/${name}`) };

const rs = { kind: "ReplicaSet", apiVersion: "apps/v1", name: "web-abc" };
const ds = { kind: "DaemonSet", apiVersion: "apps/v1", name: "kube-proxy" };
const goneDs = { kind: "DaemonSet", apiVersion: "apps/v1", name: "gone" };

// The node of drain-spec §9.3 scenario 3.
const node = {
    daemonSet: pod({ name: "kube-proxy-1", ns: "kube-system", owner: ds }),
    mirror: pod({ name: "etcd-worker1", ns: "kube-system", mirror: true, owner: { kind: "Node", apiVersion: "v1", name: "worker1" } }),
    emptyDir: pod({ name: "cache-1", owner: rs, emptyDir: true }),
    bare: pod({ name: "bare" }),
    completed: pod({ name: "job-done", phase: "Succeeded" }),
    orphanDs: pod({ name: "orphan-1", ns: "kube-system", owner: goneDs }),
    replicated: pod({ name: "web-1", owner: rs }),
};

type Expect = { action: "evict" | "skip" | "block"; text?: string };

/** The rules of §3, written out per pod, independent of the implementation's structure. */
function expected(which: keyof typeof node, o: DrainOptions): Expect {
    switch (which) {
        case "daemonSet":
            return o.ignoreDaemonSets
                ? { action: "skip", text: KUBECTL_TEXT.daemonSetWarning }
                : { action: "block", text: `cannot delete ${KUBECTL_TEXT.daemonSetFatal}` };
        case "mirror":
            return { action: "skip" };
        case "emptyDir":
            return o.deleteEmptyDirData
                ? { action: "evict" }
                : { action: "block", text: `cannot delete ${KUBECTL_TEXT.localStorageFatal}` };
        case "bare":
            return o.force
                ? { action: "evict", text: KUBECTL_TEXT.unmanagedWarning }
                : { action: "block", text: `cannot delete ${UNMANAGED_FATAL_1_36}` };
        case "completed":
            return { action: "evict" };
        case "orphanDs":
            // With --force the not-found warning is overwritten by the later filters' Okay.
            return o.force ? { action: "evict" } : { action: "block", text: 'cannot delete daemonsets.apps "gone" not found' };
        case "replicated":
            return { action: "evict" };
    }
}

const combos: DrainOptions[] = [];
for (const force of [false, true])
    for (const ignoreDaemonSets of [false, true])
        for (const deleteEmptyDirData of [false, true]) combos.push({ force, ignoreDaemonSets, deleteEmptyDirData });

const flags = (o: DrainOptions) =>
    [o.force && "--force", o.ignoreDaemonSets && "--ignore-daemonsets", o.deleteEmptyDirData && "--delete-emptydir-data"]
        .filter(Boolean)
        .join(" ") || "(no flags)";

describe("drain filters: classifyPod", () => {
    for (const o of combos) {
        describe(flags(o), () => {
            for (const which of Object.keys(node) as (keyof typeof node)[]) {
                it(`${which} pod`, () => {
                    const v = classifyPod(node[which], o, ctx);
                    const e = expected(which, o);
                    assert.equal(v.action, e.action);
                    if (v.action === "block") assert.equal(v.reason, e.text);
                    if (v.action === "evict") assert.equal(v.warning, e.text);
                    if (v.action === "skip" && e.text) assert.equal(v.warning, e.text);
                    if (v.action === "skip" && !e.text) assert.equal(v.warning, undefined);
                });
            }
        });
    }

    it("a finished DaemonSet pod is evicted even without --ignore-daemonsets", () => {
        for (const phase of ["Succeeded", "Failed"]) {
            assert.deepEqual(classifyPod(pod({ name: "d", ns: "kube-system", owner: ds, phase }), {}, ctx), { action: "evict" });
            assert.deepEqual(classifyPod(pod({ name: "d", ns: "kube-system", owner: goneDs, phase }), {}, ctx), { action: "evict" });
        }
    });

    it("a finished pod with emptyDir and no controller is evicted without flags", () => {
        assert.deepEqual(classifyPod(pod({ name: "x", phase: "Failed", emptyDir: true }), {}, ctx), { action: "evict" });
    });

    it("only apps/v1 DaemonSets count as DaemonSets (kubectl >= 1.34)", () => {
        const kruise = pod({ name: "k", owner: { kind: "DaemonSet", apiVersion: "apps.kruise.io/v1alpha1", name: "kube-proxy" } });
        assert.deepEqual(classifyPod(kruise, {}, ctx), { action: "evict" });
        const legacy = pod({ name: "l", owner: { kind: "DaemonSet", apiVersion: "extensions/v1beta1", name: "nope" } });
        assert.deepEqual(classifyPod(legacy, {}, ctx), { action: "evict" });
    });

    it("an orphaned DaemonSet pod blocks even with --ignore-daemonsets unless --force", () => {
        const v = classifyPod(node.orphanDs, { ignoreDaemonSets: true }, ctx);
        assert.deepEqual(v, { action: "block", reason: 'cannot delete daemonsets.apps "gone" not found' });
    });

    it("a non-controller owner reference does not count as a controller", () => {
        const p = pod({ name: "p", owner: { kind: "ReplicaSet", apiVersion: "apps/v1", name: "rs", controller: false } });
        assert.equal(classifyPod(p, {}, ctx).action, "block");
    });

    it("bare pod with emptyDir: local storage is checked first, then the controller", () => {
        const p = pod({ name: "p", emptyDir: true });
        assert.deepEqual(classifyPod(p, {}, ctx), { action: "block", reason: `cannot delete ${KUBECTL_TEXT.localStorageFatal}` });
        assert.deepEqual(classifyPod(p, { force: true }, ctx), {
            action: "block",
            reason: `cannot delete ${KUBECTL_TEXT.localStorageFatal}`,
        });
        assert.deepEqual(classifyPod(p, { deleteEmptyDirData: true }, ctx), {
            action: "block",
            reason: `cannot delete ${UNMANAGED_FATAL_1_36}`,
        });
        assert.deepEqual(classifyPod(p, { deleteEmptyDirData: true, force: true }, ctx), {
            action: "evict",
            warning: KUBECTL_TEXT.unmanagedWarning,
        });
    });

    it("a mirror pod is skipped silently whatever the flags", () => {
        for (const o of combos) assert.deepEqual(classifyPod(node.mirror, o, ctx).action, "skip");
        const bareMirror = pod({ name: "static", mirror: true, emptyDir: true });
        assert.equal(classifyPod(bareMirror, {}, ctx).action, "skip");
    });

    describe("skip-wait-for-delete-timeout", () => {
        const terminating = (ago: number) => pod({ name: "t", owner: rs, deletedSecondsAgo: ago });
        it("skips a pod whose deletionTimestamp is more than N whole seconds old", () => {
            assert.equal(classifyPod(terminating(100), { skipWaitForDeleteTimeoutSeconds: 30 }, ctx).action, "skip");
            assert.equal(classifyPod(terminating(31), { skipWaitForDeleteTimeoutSeconds: 30 }, ctx).action, "skip");
        });
        it("does not skip at exactly N seconds (floor(now - ts) must exceed N)", () => {
            assert.equal(classifyPod(terminating(30.9), { skipWaitForDeleteTimeoutSeconds: 30 }, ctx).action, "evict");
            assert.equal(classifyPod(terminating(10), { skipWaitForDeleteTimeoutSeconds: 30 }, ctx).action, "evict");
        });
        it("N = 0 never skips; a future deletionTimestamp never skips", () => {
            assert.equal(classifyPod(terminating(1000), { skipWaitForDeleteTimeoutSeconds: 0 }, ctx).action, "evict");
            assert.equal(classifyPod(terminating(1000), {}, ctx).action, "evict");
            assert.equal(classifyPod(terminating(-20), { skipWaitForDeleteTimeoutSeconds: 1 }, ctx).action, "evict");
        });
        it("skip-wait runs first: a terminating bare pod is skipped, not blocked", () => {
            const p = pod({ name: "b", deletedSecondsAgo: 100 });
            assert.equal(classifyPod(p, { skipWaitForDeleteTimeoutSeconds: 5 }, ctx).action, "skip");
            assert.equal(classifyPod(p, {}, ctx).action, "block");
        });
        it("accepts deletionTimestamp as a string (watch objects are raw JSON)", () => {
            const p = pod({ name: "s", owner: rs });
            (p.metadata as any).deletionTimestamp = new Date(NOW.getTime() - 60_000).toISOString();
            assert.equal(classifyPod(p, { skipWaitForDeleteTimeoutSeconds: 10 }, ctx).action, "skip");
        });
    });
});

describe("drain filters: classifyPods aggregation", () => {
    const all = Object.values(node);
    const extraDs = pod({ name: "kube-proxy-2", ns: "kube-system", owner: ds });
    const extraBare = pod({ name: "bare-2", ns: "other" });

    it("no flags: errors grouped per message, kubectl's text, nothing evictable counts as blocked", () => {
        const c = classifyPods("worker1", [...all, extraDs, extraBare], {}, ctx);
        assert.deepEqual(c.errors, [
            `cannot delete ${KUBECTL_TEXT.daemonSetFatal}: kube-system/kube-proxy-1, kube-system/kube-proxy-2`,
            `cannot delete ${KUBECTL_TEXT.localStorageFatal}: default/cache-1`,
            `cannot delete ${UNMANAGED_FATAL_1_36}: default/bare, other/bare-2`,
            'cannot delete daemonsets.apps "gone" not found: kube-system/orphan-1',
        ]);
        assert.deepEqual(c.warnings, []);
        assert.deepEqual(
            c.evict.map((e) => e.key),
            ["default/job-done", "default/web-1"],
        );
        assert.deepEqual(
            c.skip.map((e) => e.key),
            ["kube-system/etcd-worker1"],
        );
        assert.equal(c.blocked.length, 6);
        assert.equal(c.node, "worker1");
    });

    it("all flags: nothing blocked, kubectl's warnings", () => {
        const c = classifyPods(
            "worker1",
            [...all, extraDs, extraBare],
            { force: true, ignoreDaemonSets: true, deleteEmptyDirData: true },
            ctx,
        );
        assert.deepEqual(c.errors, []);
        assert.deepEqual(c.blocked, []);
        assert.deepEqual(c.warnings, [
            `${KUBECTL_TEXT.daemonSetWarning}: kube-system/kube-proxy-1, kube-system/kube-proxy-2`,
            `${KUBECTL_TEXT.unmanagedWarning}: default/bare, other/bare-2`,
        ]);
        assert.deepEqual(
            c.evict.map((e) => e.key),
            ["default/cache-1", "default/bare", "default/job-done", "kube-system/orphan-1", "default/web-1", "other/bare-2"],
        );
        assert.deepEqual(c.skip.map((e) => e.key).sort(), [
            "kube-system/etcd-worker1",
            "kube-system/kube-proxy-1",
            "kube-system/kube-proxy-2",
        ]);
    });

    it("an empty node classifies to nothing", () => {
        assert.deepEqual(classifyPods("n", [], {}, ctx), { node: "n", evict: [], skip: [], blocked: [], warnings: [], errors: [] });
    });
});

describe("drain filters: the expected texts above are kubectl's", () => {
    it("every one is in the installed kubectl binary, verbatim", function () {
        requireKubectl(this);
        const binary = fs.readFileSync(fs.realpathSync(KUBECTL));
        for (const [name, text] of Object.entries(KUBECTL_TEXT))
            assert.ok(binary.includes(text), `${name}: ${JSON.stringify(text)} is not in ${KUBECTL}`);
    });
});
