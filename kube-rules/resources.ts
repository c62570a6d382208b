// Resource quantities ("250m", "1.5", "512Mi", "2G") and what a pod asks the scheduler for.
import type { V1Node, V1Pod } from "@kubernetes/client-node";

/** CPU and memory of requests or allocatable, in integers. */
export interface ResourceAmount {
    /** CPU in millicores. */
    cpuMillis: number;
    memoryBytes: number;
}

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** Parses a Kubernetes quantity into its plain value (cores for CPU, bytes for memory). NaN if malformed. */
export function parseQuantity(q: string | number | undefined): number {
    if (q === undefined || q === null) return 0;
    if (typeof q === "number") return q;
    const m = String(q)
        .trim()
        .match(/^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+))?(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?$/);
    if (!m) return NaN;
    const base = parseFloat(m[1]) * (m[2] ? 10 ** parseInt(m[2], 10) : 1);
    const suffix = m[3] ?? "";
    return base * (BINARY[suffix] ?? DECIMAL[suffix]);
}

/** Parsed quantities by text: a cluster uses few distinct ones ("100m", "128Mi"), and 450,000 pods repeat them. */
const parsed = new Map<string, number>();

function cachedQuantity(q: string | number | undefined): number {
    if (typeof q !== "string") return parseQuantity(q);
    let v = parsed.get(q);
    if (v === undefined) {
        v = parseQuantity(q);
        if (parsed.size < 10000) parsed.set(q, v);
    }
    return v;
}

function cpuMillis(q: string | number | undefined): number {
    const v = cachedQuantity(q);
    return Number.isFinite(v) ? Math.ceil(v * 1000) : 0;
}
function bytes(q: string | number | undefined): number {
    const v = cachedQuantity(q);
    return Number.isFinite(v) ? Math.ceil(v) : 0;
}

type ResourceList = Record<string, string | number> | undefined;

/** The API server defaults a missing request to the limit, but hand-made objects may not have been defaulted. */
function request(requests: ResourceList, limits: ResourceList, resource: "cpu" | "memory"): string | number | undefined {
    return requests?.[resource] ?? limits?.[resource];
}

/** One shared object per distinct amount: pods of a workload ask for the same, and nothing changes these. */
const amounts = new Map<number, Map<number, ResourceAmount>>();

function amount(cpu: number, memory: number): ResourceAmount {
    let byMemory = amounts.get(cpu);
    if (!byMemory) amounts.set(cpu, (byMemory = new Map()));
    let a = byMemory.get(memory);
    if (!a) byMemory.set(memory, (a = Object.freeze({ cpuMillis: cpu, memoryBytes: memory }) as ResourceAmount));
    return a;
}

/**
 * What the scheduler reserves for a pod: the larger of the sum over containers and the largest init
 * container, plus pod overhead (as kube-scheduler's NodeResourcesFit computes it). The result is shared: do not change it.
 */
export function podRequests(pod: V1Pod): ResourceAmount {
    let cpu = 0;
    let memory = 0;
    for (const c of pod.spec?.containers ?? []) {
        const requests = c.resources?.requests as ResourceList;
        const limits = c.resources?.limits as ResourceList;
        cpu += cpuMillis(request(requests, limits, "cpu"));
        memory += bytes(request(requests, limits, "memory"));
    }
    for (const c of pod.spec?.initContainers ?? []) {
        const requests = c.resources?.requests as ResourceList;
        const limits = c.resources?.limits as ResourceList;
        cpu = Math.max(cpu, cpuMillis(request(requests, limits, "cpu")));
        memory = Math.max(memory, bytes(request(requests, limits, "memory")));
    }
    const overhead = pod.spec?.overhead as ResourceList;
    if (overhead) {
        cpu += cpuMillis(overhead.cpu);
        memory += bytes(overhead.memory);
    }
    return amounts.size < 10000 ? amount(cpu, memory) : { cpuMillis: cpu, memoryBytes: memory };
}

export interface NodeAllocatable extends ResourceAmount {
    pods: number;
}

/** Allocatable resources of a node; a missing figure means "no limit" (hand-made fixtures often omit them). */
export function nodeAllocatable(node: V1Node): NodeAllocatable {
    const list = (node.status?.allocatable ?? node.status?.capacity) as ResourceList;
    const get = (key: string, parse: (q: string | number) => number) =>
        list?.[key] !== undefined ? parse(list[key]) : Number.POSITIVE_INFINITY;
    return {
        cpuMillis: get("cpu", cpuMillis),
        memoryBytes: get("memory", bytes),
        pods: get("pods", (q) => Math.floor(parseQuantity(q))),
    };
}

export function formatCpu(millis: number): string {
    if (!Number.isFinite(millis)) return "unlimited";
    if (millis % 1000 === 0) return `${millis / 1000}`;
    return millis < 10000 ? `${millis}m` : `${Math.round(millis / 100) / 10}`;
}

export function formatMemory(bytesValue: number): string {
    if (!Number.isFinite(bytesValue)) return "unlimited";
    const units: [string, number][] = [
        ["Ti", 2 ** 40],
        ["Gi", 2 ** 30],
        ["Mi", 2 ** 20],
        ["Ki", 2 ** 10],
    ];
    for (const [unit, size] of units) {
        if (bytesValue >= size) {
            const v = bytesValue / size;
            return `${Number.isInteger(v) ? v : v.toFixed(1)}${unit}`;
        }
    }
    return `${bytesValue}`;
}
