// Resolve a scenario option to a List of objects, and load a List into the store.

import * as fs from "node:fs";
import type { Registry } from "../apiserver/registry";
import { resourceForKind } from "../apiserver/resources";
import { readScenarioFile } from "./from-file";
import { largeScenario } from "./large";
import { pdbScenario } from "./pdb";
import { SEED_SERVER_VERSION, seedScenario } from "./seed";

export interface ResolvedScenario {
    name: string;
    list: { kind: "List"; items: any[] };
    serverVersion: string;
}

export const DEFAULT_SERVER_VERSION = "v1.32.0";

export function resolveScenario(
    scenario: string | { kind: "List"; items: any[] },
    nowMs: number,
    o: { nodes?: number; podsPerNode?: number; seed?: number } = {},
): ResolvedScenario {
    const seed = o.seed ?? 1;
    if (typeof scenario === "object") return { name: "custom", list: scenario, serverVersion: DEFAULT_SERVER_VERSION };
    switch (scenario) {
        case "seed":
            return { name: "seed", list: seedScenario(nowMs, seed), serverVersion: SEED_SERVER_VERSION };
        case "pdb":
            return { name: "pdb", list: pdbScenario(nowMs, seed), serverVersion: DEFAULT_SERVER_VERSION };
        case "large":
            return {
                name: "large",
                list: largeScenario(nowMs, o.nodes ?? 10, o.podsPerNode ?? 10, seed),
                serverVersion: DEFAULT_SERVER_VERSION,
            };
        case "empty":
            return { name: "empty", list: { kind: "List", items: [] }, serverVersion: DEFAULT_SERVER_VERSION };
    }
    if (!fs.existsSync(scenario)) {
        throw new Error(`unknown scenario ${JSON.stringify(scenario)}: expected seed, pdb, large, or a path to a List file`);
    }
    return { name: scenario, list: readScenarioFile(scenario), serverVersion: DEFAULT_SERVER_VERSION };
}

const ORDER = ["Namespace", "Node", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Pod", "PodDisruptionBudget", "Lease", "Event"];

/**
 * Put the objects into the store as they are (names, uids, status, nodeName
 * kept), namespaces first; namespaces that are referenced but missing are
 * created. Returns the kinds that were skipped because they are not served.
 */
export function loadObjects(registry: Registry, items: any[]): { loaded: number; skipped: string[] } {
    const skipped: string[] = [];
    const sorted = [...items].sort((a, b) => rank(a.kind) - rank(b.kind));
    const haveNs = new Set<string>();
    for (const it of sorted) if (it.kind === "Namespace") haveNs.add(it.metadata?.name);
    let loaded = 0;
    const nsRes = resourceForKind("v1", "Namespace")!;
    for (const it of sorted) {
        const r = resourceForKind(it.apiVersion, it.kind) ?? resourceForKind(undefined, it.kind);
        // reviews (SelfSubjectAccessReview...) are answers, never stored
        if (!r || (r.verbs && !r.verbs.includes("get"))) {
            skipped.push(`${it.kind}/${it.metadata?.name}`);
            continue;
        }
        if (r.namespaced) {
            const ns = it.metadata?.namespace ?? "default";
            if (!haveNs.has(ns) && !registry.store.get("namespaces", undefined, ns)) {
                registry.load(nsRes, { metadata: { name: ns, labels: { "kubernetes.io/metadata.name": ns } } });
                haveNs.add(ns);
            }
        }
        if (registry.store.get(r.plural, r.namespaced ? (it.metadata?.namespace ?? "default") : undefined, it.metadata?.name)) {
            skipped.push(`${it.kind}/${it.metadata?.name} (duplicate)`);
            continue;
        }
        registry.load(r, it);
        loaded++;
    }
    return { loaded, skipped };
}

function rank(kind: string): number {
    const i = ORDER.indexOf(kind);
    return i < 0 ? ORDER.length : i;
}
