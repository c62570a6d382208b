// A minimal OpenAPI v3 surface: just enough for kubectl to see that the server
// validates fields itself (the `fieldValidation` query parameter on PATCH), so
// `kubectl apply/create -f` does not need full schemas. No component schemas
// are served; kubectl then computes strategic-merge patches from its built-in
// Go types.

import { RESOURCES, ResourceInfo } from "./resources";

function gvPath(group: string, version: string): string {
    return group ? `apis/${group}/${version}` : `api/${version}`;
}

function groupVersions(): { group: string; version: string }[] {
    const seen = new Map<string, { group: string; version: string }>();
    for (const r of RESOURCES) seen.set(gvPath(r.group, r.version), { group: r.group, version: r.version });
    return [...seen.values()];
}

export function openapiV3Root(): any {
    const paths: Record<string, any> = {};
    for (const gv of groupVersions()) {
        const p = gvPath(gv.group, gv.version);
        paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${p.replace(/[^a-z0-9]/g, "").toUpperCase()}` };
    }
    return { paths };
}

function collectionPath(r: ResourceInfo): string {
    const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
    return r.namespaced ? `${base}/namespaces/{namespace}/${r.plural}` : `${base}/${r.plural}`;
}

export function openapiV3GroupVersion(path: string): any | undefined {
    const gv = groupVersions().find((x) => `/openapi/v3/${gvPath(x.group, x.version)}` === path);
    if (!gv) return undefined;
    const paths: Record<string, any> = {};
    for (const r of RESOURCES.filter((x) => x.group === gv.group && x.version === gv.version)) {
        const gvk = { group: r.group, version: r.version, kind: r.kind };
        const params = [
            { name: "dryRun", in: "query", schema: { type: "string", uniqueItems: true } },
            { name: "fieldManager", in: "query", schema: { type: "string", uniqueItems: true } },
            { name: "fieldValidation", in: "query", schema: { type: "string", uniqueItems: true } },
        ];
        const op = (verb: string, action: string, withParams = false) => ({
            operationId: `${verb}${r.kind}`,
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
            ...(withParams ? { parameters: params } : {}),
            responses: {},
        });
        paths[collectionPath(r)] = { post: op("create", "post", true) };
        // reviews (SelfSubjectAccessReview...) are create-only: no object paths
        if (r.verbs && !r.verbs.includes("get")) continue;
        paths[`${collectionPath(r)}/{name}`] = {
            get: op("read", "get"),
            put: op("replace", "put", true),
            patch: op("patch", "patch", true),
            delete: op("delete", "delete"),
        };
    }
    return { openapi: "3.0.0", info: { title: "Kubernetes (simulated)", version: "unversioned" }, paths, components: { schemas: {} } };
}
