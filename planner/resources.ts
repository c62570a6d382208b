// Resource quantities ("250m", "1.5", "512Mi", "2G") and what a pod asks the scheduler for.
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import type { ResourceAmount } from "./types";

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** Parses a Kubernetes quantity into its plain value (cores for CPU, bytes for memory). NaN if malformed. */
export function parseQuantity(q: string | number | undefined): number {
    if (q === undefined || q === null) return 0;
    if (typeof q === "number") return q;
    const m = String(q).trim().match(/^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+))?(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?$/);
    if (!m) return NaN;
    const base = parseFloat(m[1]) * (m[2] ? 10 ** parseInt(m[2], 10) : 1);
    const suffix = m[3] ?? "";
    return base * (BINARY[suffix] ?? DECIMAL[suffix]);
}

function cpuMillis(q: string | number | undefined): number {
    const v = parseQuantity(q);
    return Number.isFinite(v) ? Math.ceil(v * 1000) : 0;
}
function bytes(q: string | number | undefined): number {
    const v = parseQuantity(q);
    return Number.isFinite(v) ? Math.ceil(v) : 0;
}

type ResourceList = Record<string, string | number> | undefined;

function containerRequest(requests: ResourceList, limits: ResourceList): ResourceAmount {
    // The API server defaults a missing request to the limit, but hand-made objects may not have been defaulted.
    return {
        cpuMillis: cpuMillis(requests?.cpu ?? limits?.cpu),
        memoryBytes: bytes(requests?.memory ?? limits?.memory),
    };
}

/**
 * What the scheduler reserves for a pod: the larger of the sum over containers and the largest init
 * container, plus pod overhead (as kube-scheduler's NodeResourcesFit computes it).
 */
export function podRequests(pod: V1Pod): ResourceAmount {
    const sum: ResourceAmount = { cpuMillis: 0, memoryBytes: 0 };
    for (const c of pod.spec?.containers ?? []) {
        const r = containerRequest(c.resources?.requests as ResourceList, c.resources?.limits as ResourceList);
        sum.cpuMillis += r.cpuMillis;
        sum.memoryBytes += r.memoryBytes;
    }
    for (const c of pod.spec?.initContainers ?? []) {
        const r = containerRequest(c.resources?.requests as ResourceList, c.resources?.limits as ResourceList);
        sum.cpuMillis = Math.max(sum.cpuMillis, r.cpuMillis);
        sum.memoryBytes = Math.max(sum.memoryBytes, r.memoryBytes);
    }
    const overhead = pod.spec?.overhead as ResourceList;
    if (overhead) {
        sum.cpuMillis += cpuMillis(overhead.cpu);
        sum.memoryBytes += bytes(overhead.memory);
    }
    return sum;
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
    const units: [string, number][] = [["Ti", 2 ** 40], ["Gi", 2 ** 30], ["Mi", 2 ** 20], ["Ki", 2 ** 10]];
    for (const [unit, size] of units) {
        if (bytesValue >= size) {
            const v = bytesValue / size;
            return `${Number.isInteger(v) ? v : v.toFixed(1)}${unit}`;
        }
    }
    return `${bytesValue}`;
}
