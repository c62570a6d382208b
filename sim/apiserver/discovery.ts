// Discovery documents: /version, /api, /api/v1, /apis, /apis/GROUP[/VERSION].
// Plain (non-aggregated) JSON; kubectl 1.32 falls back to it happily.

import { RESOURCES, ResourceInfo, resourcesInGroupVersion, verbsFor } from "./resources";

export interface DiscoveryOptions {
    serverAddress: string; // host:port
    gitVersion: string; // e.g. v1.32.0
    /** drop the pods/eviction entry (forces clients onto the delete fallback) */
    hideEviction: () => boolean;
}

export function versionInfo(gitVersion: string): any {
    const m = gitVersion.match(/^v?(\d+)\.(\d+)/);
    return {
        major: m ? m[1] : "1",
        minor: m ? m[2] : "32",
        gitVersion,
        gitCommit: "0000000000000000000000000000000000000000",
        gitTreeState: "clean",
        buildDate: "2024-12-11T00:00:00Z",
        goVersion: "go1.23.4",
        compiler: "gc",
        platform: "linux/amd64",
    };
}

export function apiVersions(o: DiscoveryOptions): any {
    return {
        kind: "APIVersions",
        versions: ["v1"],
        serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: o.serverAddress }],
    };
}

function groups(): { name: string; version: string }[] {
    const seen = new Map<string, string>();
    for (const r of RESOURCES) if (r.group && !seen.has(r.group)) seen.set(r.group, r.version);
    return [...seen].map(([name, version]) => ({ name, version }));
}

function groupDoc(name: string, version: string): any {
    const gv = { groupVersion: `${name}/${version}`, version };
    return { name, versions: [gv], preferredVersion: gv };
}

export function apiGroupList(): any {
    return { kind: "APIGroupList", apiVersion: "v1", groups: groups().map((g) => groupDoc(g.name, g.version)) };
}

export function apiGroup(name: string): any | undefined {
    const g = groups().find((x) => x.name === name);
    return g ? { kind: "APIGroup", apiVersion: "v1", ...groupDoc(g.name, g.version) } : undefined;
}

function entry(r: ResourceInfo): any {
    const e: any = {
        name: r.plural,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: verbsFor(r),
    };
    if (r.shortNames) e.shortNames = r.shortNames;
    if (r.categories) e.categories = r.categories;
    return e;
}

function subEntries(r: ResourceInfo, o: DiscoveryOptions): any[] {
    const out: any[] = [];
    for (const sub of r.subresources) {
        const name = `${r.plural}/${sub}`;
        switch (sub) {
            case "status":
                out.push({ name, singularName: "", namespaced: r.namespaced, kind: r.kind, verbs: ["get", "patch", "update"] });
                break;
            case "scale":
                out.push({
                    name,
                    singularName: "",
                    namespaced: r.namespaced,
                    group: "autoscaling",
                    version: "v1",
                    kind: "Scale",
                    verbs: ["get", "patch", "update"],
                });
                break;
            case "eviction":
                // exactly the entry kubectl's CheckEvictionSupport looks for (drain-spec §4.1)
                if (!o.hideEviction()) {
                    out.push({
                        name,
                        singularName: "",
                        namespaced: true,
                        group: "policy",
                        version: "v1",
                        kind: "Eviction",
                        verbs: ["create"],
                    });
                }
                break;
            case "binding":
                out.push({ name, singularName: "", namespaced: true, kind: "Binding", verbs: ["create"] });
                break;
            case "token":
                out.push({
                    name,
                    singularName: "",
                    namespaced: true,
                    group: "authentication.k8s.io",
                    version: "v1",
                    kind: "TokenRequest",
                    verbs: ["create"],
                });
                break;
            case "finalize":
                out.push({ name, singularName: "", namespaced: false, kind: r.kind, verbs: ["update"] });
                break;
        }
    }
    return out;
}

export function apiResourceList(group: string, version: string, o: DiscoveryOptions): any | undefined {
    const rs = resourcesInGroupVersion(group, version);
    if (rs.length === 0) return undefined;
    const resources: any[] = [];
    for (const r of rs) resources.push(entry(r), ...subEntries(r, o));
    return { kind: "APIResourceList", apiVersion: "v1", groupVersion: group ? `${group}/${version}` : version, resources };
}
