// Turns a request path into "which resource, which object, which verb".
// Routing is on the path only: kubectl adds ?timeout=32s and similar.

import { queryBool } from "./query";
import { ResourceInfo, resourceByPlural, resourcesInGroupVersion } from "./resources";

export interface RequestInfo {
    kind: "resource";
    group: string;
    version: string;
    resource: ResourceInfo;
    namespace?: string;
    name?: string;
    subresource?: string;
    /** get, list, watch, create, update, patch, delete, deletecollection */
    verb: string;
}

export type Route =
    | RequestInfo
    | {
          kind: "discovery";
          doc: "version" | "api" | "apis" | "group" | "groupVersion" | "health" | "openapi";
          group?: string;
          version?: string;
      }
    | { kind: "sim"; parts: string[] }
    | { kind: "notFound" };

export function route(method: string, path: string, query: URLSearchParams): Route {
    const parts = path
        .split("/")
        .filter((p) => p !== "")
        .map(decodeURIComponent);
    if (parts.length === 0) return { kind: "notFound" };
    if (parts[0] === "version" && parts.length === 1) return { kind: "discovery", doc: "version" };
    if (["healthz", "livez", "readyz"].includes(parts[0])) return { kind: "discovery", doc: "health" };
    if (parts[0] === "sim") return { kind: "sim", parts: parts.slice(1) };
    if (parts[0] === "openapi" && parts[1] === "v3") return { kind: "discovery", doc: "openapi", group: "/" + parts.join("/") };

    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === "api") {
        if (parts.length === 1) return { kind: "discovery", doc: "api" };
        group = "";
        version = parts[1];
        rest = parts.slice(2);
    } else if (parts[0] === "apis") {
        if (parts.length === 1) return { kind: "discovery", doc: "apis" };
        group = parts[1];
        if (parts.length === 2) return { kind: "discovery", doc: "group", group };
        version = parts[2];
        rest = parts.slice(3);
    } else {
        return { kind: "notFound" };
    }
    if (rest.length === 0) return { kind: "discovery", doc: "groupVersion", group, version };
    const known = resourcesInGroupVersion(group, version);
    if (known.length === 0) return { kind: "notFound" };

    let namespace: string | undefined;
    // /namespaces/{ns}/{resource}/... ; but /namespaces and /namespaces/{name}[/status] address namespaces themselves
    const nsScoped = (plural: string) => known.some((r) => r.plural === plural && r.namespaced);
    if (rest[0] === "namespaces" && rest.length >= 3 && (group !== "" || nsScoped(rest[2]))) {
        namespace = rest[1];
        rest = rest.slice(2);
    }
    const resource = resourceByPlural(rest[0]);
    if (!resource || resource.group !== group || resource.version !== version) return { kind: "notFound" };
    if (resource.namespaced === false && namespace !== undefined) return { kind: "notFound" };
    const name = rest[1];
    const subresource = rest[2];
    if (rest.length > 3) return { kind: "notFound" };
    if (subresource && !resource.subresources.includes(subresource)) return { kind: "notFound" };

    const watch = queryBool(query, "watch") === true;
    let verb: string;
    switch (method) {
        case "GET":
            verb = name ? (watch ? "watch" : "get") : watch ? "watch" : "list";
            break;
        case "POST":
            verb = "create";
            break;
        case "PUT":
            verb = "update";
            break;
        case "PATCH":
            verb = "patch";
            break;
        case "DELETE":
            verb = name ? "delete" : "deletecollection";
            break;
        default:
            verb = method.toLowerCase();
    }
    return { kind: "resource", group, version, resource, namespace, name, subresource, verb };
}
