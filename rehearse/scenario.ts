// From a snapshot to the simulated cluster's scenario: every object as `kubectl get -o json` lists it, plus the
// simulator's per-pod knobs for how long a workload's pods take to start and to stop.
//
// Start-up (seconds from a replacement pod's binding to Ready), per workload, first that applies:
//   1. an override for the workload ("namespace/name"), then the "default" override;
//   2. a `sim.node-upgrade.dev/start-delay-seconds` annotation already on its pod template;
//   3. its containers' probes: CONTAINER_START_SECONDS + the largest startupProbe.initialDelaySeconds +
//      readinessProbe.initialDelaySeconds of a container (the first readiness probe runs after its initial delay);
//   4. CONTAINER_START_SECONDS (the simulator's default start-up delay).
// Shut-down (seconds from the eviction to the pod being gone):
//   1. an override (the containers exit that long after the delete, at most the grace period), then "default";
//   2. a `sim.node-upgrade.dev/exit-after-seconds` annotation already on the template;
//   3. the grace period: the drain's gracePeriodSeconds when set (≥ 0), else the pod's
//      terminationGracePeriodSeconds (30 when unset). The simulated kubelet removes a pod when its grace period
//      ends, so without an override every pod is taken to use all of it (the cautious reading).
import type { V1Pod } from "@kubernetes/client-node";
import { KNOB_PREFIX } from "../sim";
import type { ClusterSnapshot } from "../planner";
import { RehearsalInputError, type TimingOverrides } from "./types";

/** Seconds from binding to Running of a container without probes (the simulator's default startupDelaySeconds). */
export const CONTAINER_START_SECONDS = 2;
/** Kubernetes' default terminationGracePeriodSeconds. */
export const DEFAULT_GRACE_SECONDS = 30;

const START_DELAY_KNOB = `${KNOB_PREFIX}start-delay-seconds`;
const EXIT_AFTER_KNOB = `${KNOB_PREFIX}exit-after-seconds`;

export type WorkloadKind = "Deployment" | "StatefulSet" | "ReplicaSet";

export interface WorkloadTiming {
    kind: WorkloadKind;
    namespace: string;
    name: string;
    startupSeconds: number;
    startupFrom: string;
    shutdownSeconds: number;
    shutdownFrom: string;
    /** Knob values written into the scenario (undefined: leave the simulator's default / the grace period). */
    startKnob?: number;
    exitKnob?: number;
}

/** "Deployment default/web" */
export function workloadId(kind: string, namespace: string, name: string): string {
    return `${kind} ${namespace}/${name}`;
}

interface WorkloadObject {
    kind: WorkloadKind;
    obj: any;
}

const ns = (o: any): string => o?.metadata?.namespace ?? "default";
const controllerRef = (o: any): any => (o?.metadata?.ownerReferences ?? []).find((r: any) => r.controller === true);

/** The workloads of a snapshot, and which workload each ReplicaSet belongs to (its Deployment, or itself). */
export class WorkloadIndex {
    readonly workloads = new Map<string, WorkloadObject>();
    /** ReplicaSet uid (and "ns/name") → workload id. */
    private readonly rsOwner = new Map<string, string>();
    /** "ns/name" → workload ids with that name (a Deployment and a StatefulSet may share one). */
    private readonly byName = new Map<string, string[]>();

    constructor(snapshot: ClusterSnapshot) {
        const add = (kind: WorkloadKind, obj: any) => {
            const id = workloadId(kind, ns(obj), obj.metadata?.name ?? "");
            this.workloads.set(id, { kind, obj });
            const key = `${ns(obj)}/${obj.metadata?.name ?? ""}`;
            this.byName.set(key, [...(this.byName.get(key) ?? []), id]);
        };
        for (const d of snapshot.deployments) add("Deployment", d);
        for (const s of snapshot.statefulSets) add("StatefulSet", s);
        for (const rs of snapshot.replicaSets) {
            const ref = controllerRef(rs);
            const owner =
                ref?.kind === "Deployment" && this.workloads.has(workloadId("Deployment", ns(rs), ref.name))
                    ? workloadId("Deployment", ns(rs), ref.name)
                    : undefined;
            if (!owner && !ref) add("ReplicaSet", rs);
            const id = owner ?? (ref ? undefined : workloadId("ReplicaSet", ns(rs), rs.metadata?.name ?? ""));
            if (!id) continue;
            if (rs.metadata?.uid) this.rsOwner.set(rs.metadata.uid, id);
            this.rsOwner.set(`${ns(rs)}/${rs.metadata?.name}`, id);
        }
    }

    /** The workload id of a pod (Deployment through its ReplicaSet, StatefulSet, bare ReplicaSet), if any. */
    ofPod(pod: V1Pod | any): string | undefined {
        const ref = controllerRef(pod);
        if (!ref) return undefined;
        if (ref.kind === "ReplicaSet") return this.rsOwner.get(ref.uid) ?? this.rsOwner.get(`${ns(pod)}/${ref.name}`);
        if (ref.kind === "StatefulSet") {
            const id = workloadId("StatefulSet", ns(pod), ref.name);
            return this.workloads.has(id) ? id : undefined;
        }
        return undefined;
    }

    /** Workload ids that "namespace/name" names. */
    named(key: string): string[] {
        return this.byName.get(key) ?? [];
    }
}

/**
 * Controllers the snapshot's pods name but the snapshot lacks ("ReplicaSet shop/web-5d9c"): the simulator cannot
 * replace those pods once evicted, so the rehearsal would be wrong about them.
 */
export function missingOwners(snapshot: ClusterSnapshot): string[] {
    const have = new Set<string>();
    const add = (kind: string, list: any[]) => {
        for (const o of list) have.add(`${kind} ${ns(o)}/${o.metadata?.name ?? ""}`);
    };
    add("ReplicaSet", snapshot.replicaSets);
    add("StatefulSet", snapshot.statefulSets);
    add("DaemonSet", snapshot.daemonSets);
    const missing = new Set<string>();
    for (const pod of snapshot.pods) {
        const ref = controllerRef(pod);
        if (!ref || !["ReplicaSet", "StatefulSet", "DaemonSet"].includes(ref.kind)) continue;
        const id = `${ref.kind} ${ns(pod)}/${ref.name}`;
        if (!have.has(id)) missing.add(id);
    }
    return [...missing].sort();
}

function knobNumber(annotations: Record<string, string> | undefined, key: string): number | undefined {
    const v = annotations?.[key];
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** CONTAINER_START_SECONDS + the largest probe delay of a container, or undefined when no container has a probe. */
function probeStartup(template: any): { seconds: number; detail: string } | undefined {
    let best: { seconds: number; detail: string } | undefined;
    for (const c of template?.spec?.containers ?? []) {
        if (!c.readinessProbe && !c.startupProbe) continue;
        const startup = c.startupProbe?.initialDelaySeconds ?? 0;
        const readiness = c.readinessProbe?.initialDelaySeconds ?? 0;
        const seconds = CONTAINER_START_SECONDS + startup + readiness;
        if (!best || seconds > best.seconds) {
            const parts = [
                c.startupProbe ? `startupProbe ${startup}s` : "",
                c.readinessProbe ? `readinessProbe ${readiness}s` : "",
                `${CONTAINER_START_SECONDS}s start`,
            ].filter(Boolean);
            best = { seconds, detail: `${c.name}: ${parts.join(" + ")}` };
        }
    }
    return best;
}

function validateOverrides(what: string, values: Record<string, number> | undefined, index: WorkloadIndex): void {
    for (const [key, value] of Object.entries(values ?? {})) {
        if (!(typeof value === "number" && Number.isFinite(value) && value >= 0))
            throw new RehearsalInputError(`${what} ${key}=${value}: expected a number of seconds, 0 or more`);
        if (key === "default") continue;
        if (!/^[^/\s]+\/[^/\s]+$/.test(key))
            throw new RehearsalInputError(`${what} ${key}: name a workload as namespace/name (or "default" for every workload)`);
        if (index.named(key).length === 0)
            throw new RehearsalInputError(`${what} ${key}: the snapshot has no Deployment, StatefulSet or ReplicaSet ${key}`);
    }
}

/** Start-up and shut-down times of every workload (see the top of this file), validated overrides first. */
export function resolveTimings(
    snapshot: ClusterSnapshot,
    index: WorkloadIndex,
    overrides: TimingOverrides | undefined,
    drainGracePeriodSeconds: number | undefined,
): Map<string, WorkloadTiming> {
    validateOverrides("startup seconds", overrides?.startupSeconds, index);
    validateOverrides("shutdown seconds", overrides?.shutdownSeconds, index);
    const out = new Map<string, WorkloadTiming>();
    for (const [id, w] of index.workloads) {
        const namespace = ns(w.obj);
        const name = w.obj.metadata?.name ?? "";
        const key = `${namespace}/${name}`;
        const template = w.obj.spec?.template;
        const annotations = template?.metadata?.annotations;

        let startupSeconds: number;
        let startupFrom: string;
        let startKnob: number | undefined;
        const startOverride = overrides?.startupSeconds?.[key] ?? overrides?.startupSeconds?.default;
        const startAnnotation = knobNumber(annotations, START_DELAY_KNOB);
        const probes = probeStartup(template);
        if (startOverride !== undefined) {
            startupSeconds = startKnob = startOverride;
            startupFrom = overrides?.startupSeconds?.[key] !== undefined ? "override" : "default override";
        } else if (startAnnotation !== undefined) {
            startupSeconds = startKnob = startAnnotation;
            startupFrom = "start-delay-seconds annotation";
        } else if (probes) {
            startupSeconds = startKnob = probes.seconds;
            startupFrom = probes.detail;
        } else {
            startupSeconds = startKnob = CONTAINER_START_SECONDS;
            startupFrom = "default";
        }

        const grace =
            drainGracePeriodSeconds !== undefined && drainGracePeriodSeconds >= 0
                ? { seconds: drainGracePeriodSeconds, from: "--grace-period" }
                : template?.spec?.terminationGracePeriodSeconds !== undefined
                  ? { seconds: template.spec.terminationGracePeriodSeconds as number, from: "terminationGracePeriodSeconds" }
                  : { seconds: DEFAULT_GRACE_SECONDS, from: "default grace period" };
        let shutdownSeconds = grace.seconds;
        let shutdownFrom = grace.from;
        let exitKnob: number | undefined;
        const stopOverride = overrides?.shutdownSeconds?.[key] ?? overrides?.shutdownSeconds?.default;
        const exitAnnotation = knobNumber(annotations, EXIT_AFTER_KNOB);
        if (stopOverride !== undefined) {
            exitKnob = stopOverride;
            shutdownSeconds = Math.min(stopOverride, grace.seconds);
            shutdownFrom = overrides?.shutdownSeconds?.[key] !== undefined ? "override" : "default override";
        } else if (exitAnnotation !== undefined) {
            exitKnob = exitAnnotation;
            shutdownSeconds = Math.min(exitAnnotation, grace.seconds);
            shutdownFrom = "exit-after-seconds annotation";
        }
        out.set(id, { kind: w.kind, namespace, name, startupSeconds, startupFrom, shutdownSeconds, shutdownFrom, startKnob, exitKnob });
    }
    return out;
}

const KINDS: { field: keyof Omit<ClusterSnapshot, "takenAt" | "serverVersion">; kind: string; apiVersion: string }[] = [
    { field: "nodes", kind: "Node", apiVersion: "v1" },
    { field: "deployments", kind: "Deployment", apiVersion: "apps/v1" },
    { field: "replicaSets", kind: "ReplicaSet", apiVersion: "apps/v1" },
    { field: "statefulSets", kind: "StatefulSet", apiVersion: "apps/v1" },
    { field: "daemonSets", kind: "DaemonSet", apiVersion: "apps/v1" },
    { field: "pods", kind: "Pod", apiVersion: "v1" },
    { field: "podDisruptionBudgets", kind: "PodDisruptionBudget", apiVersion: "policy/v1" },
];

function withKnobs(meta: any, t: WorkloadTiming | undefined): void {
    if (!t || !meta) return;
    const annotations = { ...(meta.annotations ?? {}) };
    if (t.startKnob !== undefined) annotations[START_DELAY_KNOB] = String(t.startKnob);
    if (t.exitKnob !== undefined) annotations[EXIT_AFTER_KNOB] = String(t.exitKnob);
    meta.annotations = annotations;
}

/**
 * The simulator's scenario: a List of copies of the snapshot's objects (kind and apiVersion set, as typed lists
 * leave them out), with the timing knobs on every workload's pod template (Deployment and its ReplicaSets alike,
 * so the Deployment does not see a new template) and on its pods.
 */
export function scenarioList(
    snapshot: ClusterSnapshot,
    index: WorkloadIndex,
    timings: Map<string, WorkloadTiming>,
): { kind: "List"; items: any[] } {
    const items: any[] = [];
    for (const { field, kind, apiVersion } of KINDS) {
        for (const original of snapshot[field] as unknown[]) {
            const o = JSON.parse(JSON.stringify(original));
            o.kind = kind;
            o.apiVersion ??= apiVersion;
            if (kind === "Deployment" || kind === "StatefulSet") {
                o.spec ??= {};
                o.spec.template ??= {};
                o.spec.template.metadata ??= {};
                withKnobs(o.spec.template.metadata, timings.get(workloadId(kind, ns(o), o.metadata?.name ?? "")));
            } else if (kind === "ReplicaSet") {
                const ref = controllerRef(o);
                const id =
                    ref?.kind === "Deployment"
                        ? workloadId("Deployment", ns(o), ref.name)
                        : workloadId("ReplicaSet", ns(o), o.metadata?.name);
                if (o.spec?.template) {
                    o.spec.template.metadata ??= {};
                    withKnobs(o.spec.template.metadata, timings.get(id));
                }
            } else if (kind === "Pod") {
                const id = index.ofPod(o);
                if (id) {
                    o.metadata ??= {};
                    withKnobs(o.metadata, timings.get(id));
                }
            }
            items.push(o);
        }
    }
    return { kind: "List", items };
}
