// One simulated kubelet per node. A running kubelet:
//  - starts pods bound to its node: Pending (ContainerCreating) → Running and
//    Ready after a start-up delay (knob: start-delay-seconds; never-ready);
//  - finishes graceful deletions: once deletionTimestamp (+ termination-delay)
//    has passed it writes a terminal status and deletes the pod with
//    gracePeriodSeconds=0 and a UID precondition (finalizers keep the object).
// A stopped kubelet (node dead, or restarting for an upgrade) does nothing:
// its pods keep their state and deletions are never confirmed.

import { resourceByPlural } from "../apiserver/resources";
import type { StoreEvent } from "../apiserver/store";
import { Controller, ControllerContext, knobSeconds, knobTrue, nsName, setCondition, splitKey } from "./controller";

const PODS = resourceByPlural("pods")!;
const NODES = resourceByPlural("nodes")!;
const LEASES = resourceByPlural("leases")!;

export class Kubelet {
    running = true;
    /** pod uid → simulated ms when its containers are up */
    readonly startDue = new Map<string, number>();
    /** pods whose containers this kubelet is stopping ("Killing" recorded) */
    readonly killing = new Set<string>();
    private nextIp: number | undefined;

    constructor(readonly nodeName: string) {}

    /** Next free pod IP in the node's pod CIDR. */
    allocateIp(ctx: ControllerContext, node: any): string {
        const cidr: string = node?.spec?.podCIDR ?? "10.244.0.0/24";
        const parts = cidr.split("/")[0].split(".").map(Number);
        if (this.nextIp === undefined) {
            let max = 0;
            for (const p of ctx.store.podsOnNode(this.nodeName)) {
                const ip: string | undefined = p.status?.podIP;
                if (!ip || p.spec?.hostNetwork) continue;
                const q = ip.split(".").map(Number);
                if (q[0] === parts[0] && q[1] === parts[1]) max = Math.max(max, (q[2] - parts[2]) * 256 + q[3]);
            }
            this.nextIp = max + 1;
        }
        const n = this.nextIp++;
        return `${parts[0]}.${parts[1]}.${parts[2] + Math.floor(n / 256)}.${n % 256}`;
    }
}

export class KubeletManager extends Controller {
    readonly name = "kubelet";
    private kubelets = new Map<string, Kubelet>();

    kubelet(node: string): Kubelet | undefined {
        return this.kubelets.get(node);
    }

    protected resync(): void {
        for (const n of this.ctx.store.list("nodes")) {
            this.ensure(n);
            if (!this.ctx.registry.tryGet(LEASES, "kube-node-lease", n.metadata.name)) this.renewLease(n);
        }
        for (const n of this.ctx.store.list("nodes")) for (const p of this.ctx.store.podsOnNode(n.metadata.name)) this.enqueue(nsName(p));
    }

    private ensure(node: any): Kubelet {
        let k = this.kubelets.get(node.metadata.name);
        if (!k) {
            k = new Kubelet(node.metadata.name);
            k.running = !knobTrue(node, "dead");
            this.kubelets.set(node.metadata.name, k);
        }
        return k;
    }

    protected onEvent(e: StoreEvent): void {
        if (e.resource === "nodes") {
            const name = e.object.metadata.name;
            if (e.type === "DELETED") {
                this.kubelets.delete(name);
                return;
            }
            const k = this.ensure(e.object);
            if (e.type === "ADDED") this.enqueue(`lease:${name}`);
            const dead = knobTrue(e.object, "dead");
            const wasDead = e.old ? knobTrue(e.old, "dead") : false;
            if (dead && !wasDead) k.running = false;
            if (!dead && wasDead) this.startKubelet(name);
            if (e.old && !!e.old.spec?.unschedulable !== !!e.object.spec?.unschedulable) this.enqueue(`schedulable:${name}`);
            return;
        }
        if (e.resource !== "pods") return;
        const node = e.object.spec?.nodeName;
        if (!node) return;
        if (e.type !== "DELETED") return this.enqueue(nsName(e.object));
        // removed without a graceful deletion this kubelet saw (force delete): it still stops the containers
        const k = this.kubelets.get(node);
        const uid = e.object.metadata.uid;
        if (k && !k.killing.delete(uid) && k.running && e.object.status?.phase === "Running") {
            this.forceKilled.set(uid, e.object);
            this.enqueue(`killed:${uid}`);
        }
    }

    /** Pods removed at once while running (their Killing events are recorded from the queue). */
    private forceKilled = new Map<string, any>();

    /** kubelet events about its node use the node name as UID (kubectl describe node looks for both). */
    private nodeEvent(node: any, reason: string, message: string): void {
        const ref = { ...node, metadata: { ...node.metadata, uid: node.metadata.name } };
        this.ctx.events.record(ref, "Normal", reason, message, "kubelet", node.metadata.name);
    }

    /** "Killing": the kubelet stops each container of a pod being deleted. */
    private recordKilling(pod: any): void {
        for (const c of pod.spec?.containers ?? [])
            this.ctx.events.record(pod, "Normal", "Killing", `Stopping container ${c.name}`, "kubelet", pod.spec.nodeName);
    }

    /** Stop the kubelet on a node (upgrade restart, or dead). */
    stopKubelet(node: string): void {
        const k = this.kubelets.get(node);
        if (k) k.running = false;
    }

    /**
     * (Re)start the kubelet: post Ready node status with the given version and
     * pick up every pod on the node again.
     */
    startKubelet(node: string, version?: string): void {
        const n = this.ctx.registry.tryGet(NODES, undefined, node);
        if (!n) return;
        const k = this.ensure(n);
        k.running = true;
        const now = this.ctx.clock.nowRfc3339();
        const wasReady = (n.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
        this.ctx.registry.mutate(
            NODES,
            undefined,
            node,
            (o) => {
                o.status ??= {};
                if (version) {
                    o.status.nodeInfo = {
                        ...(o.status.nodeInfo ?? {}),
                        kubeletVersion: version,
                        kubeProxyVersion: version,
                        bootID: this.ctx.rng.uuid(),
                    };
                }
                const conds = (o.status.conditions ??= []);
                setCondition(
                    conds,
                    {
                        type: "Ready",
                        status: "True",
                        lastHeartbeatTime: now,
                        reason: "KubeletReady",
                        message: "kubelet is posting ready status",
                    },
                    now,
                );
            },
            { subresource: "status" },
        );
        if (version) this.nodeEvent(n, "Starting", "Starting kubelet.");
        if (!wasReady) this.nodeEvent(n, "NodeReady", `Node ${node} status is now: NodeReady`);
        this.renewLease(n);
        for (const p of this.ctx.store.podsOnNode(node)) this.enqueue(nsName(p));
    }

    /**
     * The node's heartbeat Lease in kube-node-lease, created when missing and
     * renewed when the kubelet (re)starts (no periodic renewals: they would only
     * add write noise).
     */
    private renewLease(node: any): void {
        const ns = "kube-node-lease";
        if (!this.ctx.store.get("namespaces", undefined, ns)) return;
        const now = new Date(this.ctx.clock.nowMs()).toISOString().replace("Z", "000Z");
        const existing = this.ctx.registry.tryGet(LEASES, ns, node.metadata.name);
        if (!existing) {
            try {
                this.ctx.registry.create(LEASES, ns, {
                    metadata: {
                        name: node.metadata.name,
                        ownerReferences: [{ apiVersion: "v1", kind: "Node", name: node.metadata.name, uid: node.metadata.uid }],
                    },
                    spec: { holderIdentity: node.metadata.name, leaseDurationSeconds: 40, renewTime: now },
                });
            } catch {
                /* namespace terminating or similar */
            }
            return;
        }
        this.ctx.registry.mutate(LEASES, ns, node.metadata.name, (l) => {
            l.spec = { ...(l.spec ?? {}), renewTime: now };
        });
    }

    protected sync(key: string): void {
        if (key.startsWith("killed:")) {
            const pod = this.forceKilled.get(key.slice(7));
            this.forceKilled.delete(key.slice(7));
            if (pod) this.recordKilling(pod);
            return;
        }
        if (key.startsWith("schedulable:")) {
            // the kubelet reports its node's schedulability at its next status update
            const node = this.ctx.registry.tryGet(NODES, undefined, key.slice(12));
            if (!node || !this.kubelets.get(node.metadata.name)?.running) return;
            const s = node.spec?.unschedulable ? "NodeNotSchedulable" : "NodeSchedulable";
            this.nodeEvent(node, s, `Node ${node.metadata.name} status is now: ${s}`);
            return;
        }
        if (key.startsWith("lease:")) {
            const node = this.ctx.registry.tryGet(NODES, undefined, key.slice(6));
            if (node && !this.ctx.registry.tryGet(LEASES, "kube-node-lease", node.metadata.name)) this.renewLease(node);
            return;
        }
        const [ns, name] = splitKey(key);
        const pod = this.ctx.registry.tryGet(PODS, ns, name);
        if (!pod || !pod.spec?.nodeName) return;
        const k = this.kubelets.get(pod.spec.nodeName);
        if (!k || !k.running) return;
        if (pod.metadata.deletionTimestamp) return this.syncTerminating(k, pod);
        const phase = pod.status?.phase;
        if (phase === "Succeeded" || phase === "Failed") return;
        if (phase === "Running" && (pod.status?.containerStatuses ?? []).length) return;
        this.syncStarting(k, pod);
    }

    private syncStarting(k: Kubelet, pod: any): void {
        const now = this.ctx.clock.nowMs();
        const nowTs = this.ctx.clock.nowRfc3339();
        const uid = pod.metadata.uid;
        let due = k.startDue.get(uid);
        if (due === undefined) {
            const delay = knobSeconds(pod, "start-delay-seconds") ?? this.ctx.options.startupDelaySeconds;
            due = now + delay * 1000;
            k.startDue.set(uid, due);
            const node = this.ctx.registry.tryGet(NODES, undefined, k.nodeName);
            const hostIP = (node?.status?.addresses ?? []).find((a: any) => a.type === "InternalIP")?.address;
            this.ctx.registry.mutate(
                PODS,
                pod.metadata.namespace,
                pod.metadata.name,
                (p) => {
                    p.status ??= {};
                    p.status.phase = "Pending";
                    if (hostIP) {
                        p.status.hostIP = hostIP;
                        p.status.hostIPs = [{ ip: hostIP }];
                    }
                    p.status.startTime ??= nowTs;
                    const conds = (p.status.conditions ??= []);
                    setCondition(conds, { type: "PodReadyToStartContainers", status: "False", lastProbeTime: null }, nowTs);
                    setCondition(conds, { type: "Initialized", status: "True", lastProbeTime: null }, nowTs);
                    setCondition(
                        conds,
                        {
                            type: "Ready",
                            status: "False",
                            lastProbeTime: null,
                            reason: "ContainersNotReady",
                            message: `containers with unready status: [${(p.spec.containers ?? []).map((c: any) => c.name).join(" ")}]`,
                        },
                        nowTs,
                    );
                    setCondition(
                        conds,
                        {
                            type: "ContainersReady",
                            status: "False",
                            lastProbeTime: null,
                            reason: "ContainersNotReady",
                            message: `containers with unready status: [${(p.spec.containers ?? []).map((c: any) => c.name).join(" ")}]`,
                        },
                        nowTs,
                    );
                    setCondition(conds, { type: "PodScheduled", status: "True", lastProbeTime: null }, nowTs);
                    p.status.containerStatuses = (p.spec.containers ?? []).map((c: any) => ({
                        name: c.name,
                        state: { waiting: { reason: "ContainerCreating" } },
                        lastState: {},
                        ready: false,
                        restartCount: 0,
                        image: c.image,
                        imageID: "",
                        started: false,
                    }));
                },
                { subresource: "status" },
            );
        }
        if (now < due) {
            this.enqueueAfter(`${pod.metadata.namespace}/${pod.metadata.name}`, (due - now) / 1000);
            return;
        }
        k.startDue.delete(uid);
        const ready = !knobTrue(pod, "never-ready") && !this.ctx.faults.podHas("neverReady", pod);
        const node = this.ctx.registry.tryGet(NODES, undefined, k.nodeName);
        const ip = pod.spec.hostNetwork ? pod.status?.hostIP : (pod.status?.podIP ?? k.allocateIp(this.ctx, node));
        this.ctx.registry.mutate(
            PODS,
            pod.metadata.namespace,
            pod.metadata.name,
            (p) => {
                p.status.phase = "Running";
                if (ip) {
                    p.status.podIP = ip;
                    p.status.podIPs = [{ ip }];
                }
                const conds = (p.status.conditions ??= []);
                const r = ready
                    ? { status: "True" }
                    : {
                          status: "False",
                          reason: "ContainersNotReady",
                          message: `containers with unready status: [${(p.spec.containers ?? []).map((c: any) => c.name).join(" ")}]`,
                      };
                setCondition(conds, { type: "PodReadyToStartContainers", status: "True", lastProbeTime: null }, nowTs);
                for (const t of ["Ready", "ContainersReady"]) {
                    const i = conds.findIndex((c: any) => c.type === t);
                    if (i >= 0 && ready) {
                        delete conds[i].reason;
                        delete conds[i].message;
                    }
                    setCondition(conds, { type: t, lastProbeTime: null, ...r }, nowTs);
                }
                p.status.containerStatuses = (p.spec.containers ?? []).map((c: any) => ({
                    name: c.name,
                    state: { running: { startedAt: nowTs } },
                    lastState: {},
                    ready,
                    restartCount: 0,
                    image: c.image,
                    imageID: `docker-pullable://${c.image}@sha256:${this.ctx.rng.hex(64)}`,
                    containerID: `docker://${this.ctx.rng.hex(64)}`,
                    started: true,
                }));
            },
            { subresource: "status" },
        );
        if (ready)
            this.ctx.events.record(
                pod,
                "Normal",
                "Started",
                `Started container ${pod.spec.containers?.[0]?.name ?? ""}`,
                "kubelet",
                k.nodeName,
            );
    }

    private syncTerminating(k: Kubelet, pod: any): void {
        if (!k.killing.has(pod.metadata.uid) && pod.status?.phase === "Running") {
            k.killing.add(pod.metadata.uid);
            this.recordKilling(pod);
        }
        if (knobTrue(pod, "stuck-terminating") || this.ctx.faults.podHas("stuckTerminating", pod)) return;
        k.startDue.delete(pod.metadata.uid);
        const deletionTs = Date.parse(pod.metadata.deletionTimestamp);
        const grace = pod.metadata.deletionGracePeriodSeconds ?? 0;
        let exitAt = deletionTs;
        const exitAfter = knobSeconds(pod, "exit-after-seconds");
        if (exitAfter !== undefined) exitAt = Math.min(exitAt, deletionTs - grace * 1000 + exitAfter * 1000);
        exitAt += (knobSeconds(pod, "termination-delay-seconds") ?? 0) * 1000;
        const now = this.ctx.clock.nowMs();
        if (now < exitAt) {
            this.enqueueAfter(`${pod.metadata.namespace}/${pod.metadata.name}`, (exitAt - now) / 1000);
            return;
        }
        const phase = pod.status?.phase;
        const nowTs = this.ctx.clock.nowRfc3339();
        if (phase !== "Succeeded" && phase !== "Failed") {
            this.ctx.registry.mutate(
                PODS,
                pod.metadata.namespace,
                pod.metadata.name,
                (p) => {
                    p.status ??= {};
                    p.status.phase = p.status.phase === "Pending" ? "Failed" : "Succeeded";
                    const conds = (p.status.conditions ??= []);
                    for (const t of ["Ready", "ContainersReady"])
                        setCondition(conds, { type: t, status: "False", lastProbeTime: null, reason: "PodCompleted" }, nowTs);
                    p.status.containerStatuses = (p.spec.containers ?? []).map((c: any) => ({
                        name: c.name,
                        state: {
                            terminated: { exitCode: 0, reason: "Completed", startedAt: p.status.startTime ?? nowTs, finishedAt: nowTs },
                        },
                        lastState: {},
                        ready: false,
                        restartCount: 0,
                        image: c.image,
                        imageID: "",
                        started: false,
                    }));
                },
                { subresource: "status" },
            );
        }
        const current = this.ctx.registry.tryGet(PODS, pod.metadata.namespace, pod.metadata.name);
        if (!current || current.metadata.uid !== pod.metadata.uid) return;
        if (current.metadata.deletionGracePeriodSeconds === 0 && (current.metadata.finalizers ?? []).length) return; // waiting for finalizers
        try {
            this.ctx.registry.delete(PODS, pod.metadata.namespace, pod.metadata.name, {
                gracePeriodSeconds: 0,
                preconditions: { uid: pod.metadata.uid },
            });
        } catch {
            /* gone or replaced meanwhile */
        }
    }
}
