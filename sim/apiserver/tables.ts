// Server-side printing: the meta.k8s.io Table that `kubectl get` asks for
// (Accept: application/json;as=Table;v=v1;g=meta.k8s.io). Columns and cell
// rules follow kube-apiserver's printers (pkg/printers/internalversion).

import { formatLabelSelector } from "./selectors";
import type { ResourceInfo } from "./resources";

export interface ColumnDefinition {
    name: string;
    type: string;
    format: string;
    description: string;
    priority: number;
}

type Cell = string | number | boolean;

function col(name: string, type = "string", priority = 0, format = "", description = ""): ColumnDefinition {
    return { name, type, format, description: description || name, priority };
}

const NAME = col("Name", "string", 0, "name", "Name must be unique within a namespace.");
const AGE = col("Age", "string", 0, "", "CreationTimestamp is a timestamp representing the server time when this object was created.");

/** Go's duration.HumanDuration, as kubectl prints ages. */
export function humanDuration(ms: number): string {
    const seconds = Math.floor(ms / 1000);
    if (seconds < -1) return "<invalid>";
    if (seconds < 0) return "0s";
    if (seconds < 60 * 2) return `${seconds}s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 10) {
        const s = seconds % 60;
        return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
    }
    if (minutes < 60 * 3) return `${minutes}m`;
    const hours = Math.floor(minutes / 60);
    if (hours < 8) {
        const m = minutes % 60;
        return m === 0 ? `${hours}h` : `${hours}h${m}m`;
    }
    if (hours < 48) return `${hours}h`;
    if (hours < 24 * 8) {
        const h = hours % 24;
        return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
    }
    if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
    if (hours < 24 * 365 * 8) {
        const dy = Math.floor(hours / 24) % 365;
        const y = Math.floor(hours / 24 / 365);
        return dy === 0 ? `${y}y` : `${y}y${dy}d`;
    }
    return `${Math.floor(hours / 24 / 365)}y`;
}

function age(ts: string | undefined, nowMs: number): string {
    if (!ts) return "<unknown>";
    return humanDuration(nowMs - Date.parse(ts));
}

interface Printer {
    columns: ColumnDefinition[];
    row(obj: any, now: number): Cell[];
}

function containerCells(containers: any[] | undefined): [string, string] {
    const cs = containers ?? [];
    return [cs.map((c) => c.name).join(","), cs.map((c) => c.image).join(",")];
}

export function podStatusReason(pod: any): { ready: string; reason: string; restarts: number } {
    const total = (pod.spec?.containers ?? []).length;
    let ready = 0;
    let restarts = 0;
    let reason: string = pod.status?.phase ?? "";
    if (pod.status?.reason) reason = pod.status.reason;
    let initializing = false;
    const initStatuses: any[] = pod.status?.initContainerStatuses ?? [];
    for (let i = 0; i < initStatuses.length; i++) {
        const c = initStatuses[i];
        restarts += c.restartCount ?? 0;
        if (c.state?.terminated && c.state.terminated.exitCode === 0) continue;
        if (c.state?.terminated)
            reason = c.state.terminated.reason ? `Init:${c.state.terminated.reason}` : `Init:ExitCode:${c.state.terminated.exitCode}`;
        else if (c.state?.waiting?.reason && c.state.waiting.reason !== "PodInitializing") reason = `Init:${c.state.waiting.reason}`;
        else reason = `Init:${i}/${(pod.spec?.initContainers ?? []).length}`;
        initializing = true;
        break;
    }
    if (!initializing) {
        restarts = 0;
        let hasRunning = false;
        const statuses: any[] = pod.status?.containerStatuses ?? [];
        for (let i = statuses.length - 1; i >= 0; i--) {
            const c = statuses[i];
            restarts += c.restartCount ?? 0;
            if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
            else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
            else if (c.state?.terminated)
                reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
            else if (c.ready && c.state?.running) {
                hasRunning = true;
                ready++;
            }
        }
        if (reason === "Completed" && hasRunning) {
            const readyCond = (pod.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
            reason = readyCond ? "Running" : "NotReady";
        }
    }
    const phase = pod.status?.phase;
    if (pod.metadata?.deletionTimestamp && pod.status?.reason === "NodeLost") reason = "Unknown";
    else if (pod.metadata?.deletionTimestamp && phase !== "Succeeded" && phase !== "Failed") reason = "Terminating";
    return { ready: `${ready}/${total}`, reason, restarts };
}

export function nodeRoles(node: any): string {
    const roles = new Set<string>();
    for (const [k, v] of Object.entries<string>(node.metadata?.labels ?? {})) {
        if (k.startsWith("node-role.kubernetes.io/")) {
            const r = k.slice("node-role.kubernetes.io/".length);
            if (r) roles.add(r);
        } else if (k === "kubernetes.io/role" && v) roles.add(v);
    }
    return roles.size ? [...roles].sort().join(",") : "<none>";
}

export function nodeStatusText(node: any): string {
    const status: string[] = [];
    const ready = (node.status?.conditions ?? []).find((c: any) => c.type === "Ready");
    if (ready) status.push(ready.status === "True" ? "Ready" : "NotReady");
    if (status.length === 0) status.push("Unknown");
    if (node.spec?.unschedulable) status.push("SchedulingDisabled");
    return status.join(",");
}

function nodeAddress(node: any, type: string): string {
    const a = (node.status?.addresses ?? []).find((x: any) => x.type === type);
    return a ? a.address : "<none>";
}

const PRINTERS: Record<string, Printer> = {
    nodes: {
        columns: [
            NAME,
            col("Status", "string", 0, "", "The status of the node"),
            col("Roles", "string", 0, "", "The roles of the node"),
            AGE,
            col("Version", "string", 0, "", "Kubelet Version reported by the node."),
            col("Internal-IP", "string", 1),
            col("External-IP", "string", 1),
            col("OS-Image", "string", 1),
            col("Kernel-Version", "string", 1),
            col("Container-Runtime", "string", 1),
        ],
        row: (n, now) => {
            const info = n.status?.nodeInfo ?? {};
            return [
                n.metadata.name,
                nodeStatusText(n),
                nodeRoles(n),
                age(n.metadata.creationTimestamp, now),
                info.kubeletVersion ?? "",
                nodeAddress(n, "InternalIP"),
                nodeAddress(n, "ExternalIP"),
                info.osImage || "<unknown>",
                info.kernelVersion || "<unknown>",
                info.containerRuntimeVersion || "<unknown>",
            ];
        },
    },
    pods: {
        columns: [
            NAME,
            col("Ready", "string", 0, "", "The aggregate readiness state of this pod for accepting traffic."),
            col("Status", "string", 0, "", "The aggregate status of the containers in this pod."),
            col(
                "Restarts",
                "string",
                0,
                "",
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
            AGE,
            col("IP", "string", 1, "", "IP address allocated to the pod."),
            col("Node", "string", 1, "", "Name of the node the pod is bound to."),
            col("Nominated Node", "string", 1, "", "Name of the node nominated by the scheduler."),
            col("Readiness Gates", "string", 1, "", "Readiness gates of the pod."),
        ],
        row: (p, now) => {
            const s = podStatusReason(p);
            const ip = p.status?.podIPs?.[0]?.ip || p.status?.podIP || "<none>";
            const gates: any[] = p.spec?.readinessGates ?? [];
            let gateText = "<none>";
            if (gates.length) {
                const conds: any[] = p.status?.conditions ?? [];
                const ok = gates.filter((g) => conds.some((c) => c.type === g.conditionType && c.status === "True")).length;
                gateText = `${ok}/${gates.length}`;
            }
            return [
                p.metadata.name,
                s.ready,
                s.reason,
                s.restarts,
                age(p.metadata.creationTimestamp, now),
                ip,
                p.spec?.nodeName || "<none>",
                p.status?.nominatedNodeName || "<none>",
                gateText,
            ];
        },
    },
    deployments: {
        columns: [
            NAME,
            col("Ready", "string", 0, "", "Number of the pod with ready state"),
            col(
                "Up-to-date",
                "string",
                0,
                "",
                "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
            ),
            col(
                "Available",
                "string",
                0,
                "",
                "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
            ),
            AGE,
            col("Containers", "string", 1),
            col("Images", "string", 1),
            col("Selector", "string", 1),
        ],
        row: (d, now) => {
            const [names, images] = containerCells(d.spec?.template?.spec?.containers);
            return [
                d.metadata.name,
                `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
                d.status?.updatedReplicas ?? 0,
                d.status?.availableReplicas ?? 0,
                age(d.metadata.creationTimestamp, now),
                names,
                images,
                formatLabelSelector(d.spec?.selector),
            ];
        },
    },
    replicasets: {
        columns: [
            NAME,
            col("Desired", "integer"),
            col("Current", "integer"),
            col("Ready", "integer"),
            AGE,
            col("Containers", "string", 1),
            col("Images", "string", 1),
            col("Selector", "string", 1),
        ],
        row: (r, now) => {
            const [names, images] = containerCells(r.spec?.template?.spec?.containers);
            return [
                r.metadata.name,
                r.spec?.replicas ?? 0,
                r.status?.replicas ?? 0,
                r.status?.readyReplicas ?? 0,
                age(r.metadata.creationTimestamp, now),
                names,
                images,
                formatLabelSelector(r.spec?.selector),
            ];
        },
    },
    daemonsets: {
        columns: [
            NAME,
            col("Desired", "integer"),
            col("Current", "integer"),
            col("Ready", "integer"),
            col("Up-to-date", "integer"),
            col("Available", "integer"),
            col("Node Selector", "string"),
            AGE,
            col("Containers", "string", 1),
            col("Images", "string", 1),
            col("Selector", "string", 1),
        ],
        row: (d, now) => {
            const [names, images] = containerCells(d.spec?.template?.spec?.containers);
            const ns = d.spec?.template?.spec?.nodeSelector;
            const nsText =
                ns && Object.keys(ns).length
                    ? Object.entries(ns)
                          .map(([k, v]) => `${k}=${v}`)
                          .join(",")
                    : "<none>";
            const s = d.status ?? {};
            return [
                d.metadata.name,
                s.desiredNumberScheduled ?? 0,
                s.currentNumberScheduled ?? 0,
                s.numberReady ?? 0,
                s.updatedNumberScheduled ?? 0,
                s.numberAvailable ?? 0,
                nsText,
                age(d.metadata.creationTimestamp, now),
                names,
                images,
                formatLabelSelector(d.spec?.selector),
            ];
        },
    },
    statefulsets: {
        columns: [NAME, col("Ready", "string"), AGE, col("Containers", "string", 1), col("Images", "string", 1)],
        row: (s, now) => {
            const [names, images] = containerCells(s.spec?.template?.spec?.containers);
            return [
                s.metadata.name,
                `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 0}`,
                age(s.metadata.creationTimestamp, now),
                names,
                images,
            ];
        },
    },
    poddisruptionbudgets: {
        columns: [NAME, col("Min Available", "string"), col("Max Unavailable", "string"), col("Allowed Disruptions", "integer"), AGE],
        row: (p, now) => [
            p.metadata.name,
            p.spec?.minAvailable !== undefined ? String(p.spec.minAvailable) : "N/A",
            p.spec?.maxUnavailable !== undefined ? String(p.spec.maxUnavailable) : "N/A",
            p.status?.disruptionsAllowed ?? 0,
            age(p.metadata.creationTimestamp, now),
        ],
    },
    namespaces: {
        columns: [NAME, col("Status", "string", 0, "", "The status of the namespace"), AGE],
        row: (n, now) => [n.metadata.name, n.status?.phase ?? "Active", age(n.metadata.creationTimestamp, now)],
    },
    leases: {
        columns: [NAME, col("Holder", "string"), AGE],
        row: (l, now) => [l.metadata.name, l.spec?.holderIdentity ?? "", age(l.metadata.creationTimestamp, now)],
    },
    events: {
        columns: [
            col("Last Seen", "string"),
            col("Type", "string"),
            col("Reason", "string"),
            col("Object", "string"),
            col("Subobject", "string", 1),
            col("Source", "string", 1),
            col("Message", "string"),
            col("First Seen", "string", 1),
            col("Count", "string", 1),
            col("Name", "string", 1, "name"),
        ],
        row: (e, now) => {
            const last = e.lastTimestamp || e.eventTime || e.metadata.creationTimestamp;
            const first = e.firstTimestamp || e.eventTime || e.metadata.creationTimestamp;
            const io = e.involvedObject ?? {};
            return [
                age(last, now),
                e.type ?? "",
                e.reason ?? "",
                `${String(io.kind ?? "").toLowerCase()}/${io.name ?? ""}`,
                io.fieldPath ?? "",
                [e.source?.component, e.source?.host].filter(Boolean).join(", "),
                e.message ?? "",
                age(first, now),
                String(e.count ?? 1),
                e.metadata.name,
            ];
        },
    },
};

const GENERIC: Printer = {
    columns: [NAME, AGE],
    row: (o, now) => [o.metadata.name, age(o.metadata.creationTimestamp, now)],
};

export type IncludeObject = "None" | "Metadata" | "Object";

/** Build a Table for a list of objects (or a single object). */
export function buildTable(
    r: ResourceInfo,
    items: any[],
    nowMs: number,
    opts: { includeObject?: IncludeObject; resourceVersion?: string; continueToken?: string; apiVersion?: string; noHeaders?: boolean },
): any {
    const p = PRINTERS[r.plural] ?? GENERIC;
    const include = opts.includeObject ?? "Metadata";
    const meta: any = {};
    if (opts.resourceVersion) meta.resourceVersion = opts.resourceVersion;
    if (opts.continueToken) meta.continue = opts.continueToken;
    const table: any = {
        kind: "Table",
        apiVersion: opts.apiVersion ?? "meta.k8s.io/v1",
        metadata: meta,
        columnDefinitions: opts.noHeaders ? null : p.columns,
        rows: items.map((o) => {
            const row: any = { cells: p.row(o, nowMs) };
            if (include === "Object") row.object = o;
            else if (include === "Metadata") {
                row.object = { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata };
            }
            return row;
        }),
    };
    return table;
}

/** Parse the Accept header: does the client want a Table, and which version? */
export function wantsTable(accept: string | undefined): { table: boolean; apiVersion: string } {
    if (!accept) return { table: false, apiVersion: "" };
    for (const part of accept.split(",")) {
        const params = part.split(";").map((s) => s.trim());
        if (params.includes("as=Table")) {
            const v = params.find((x) => x.startsWith("v="))?.slice(2) ?? "v1";
            return { table: true, apiVersion: `meta.k8s.io/${v}` };
        }
        // a plain JSON entry first means the client prefers plain objects
        if (params[0] === "application/json" && params.length === 1) return { table: false, apiVersion: "" };
        if (params[0] === "*/*") return { table: false, apiVersion: "" };
    }
    return { table: false, apiVersion: "" };
}
