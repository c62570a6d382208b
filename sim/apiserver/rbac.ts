// RBAC for a second, restricted identity: PolicyRules (as in a ClusterRole) evaluated per request the way
// kube-apiserver's RBAC authorizer does (k8s.io/kubernetes/pkg/apis/rbac/v1/evaluation_helpers.go), and the
// 403 it answers (k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go ForbiddenStatusError).
// Who a rule applies to and the defaults every user has are decided in authorizer.ts.

import * as fs from "node:fs";
import * as YAML from "yaml";
import type { RequestInfo } from "./router";
import { ApiError } from "./status-errors";

export interface PolicyRule {
    apiGroups?: string[];
    resources?: string[];
    verbs: string[];
    resourceNames?: string[];
    nonResourceURLs?: string[];
}

export interface RbacIdentity {
    /** e.g. "system:serviceaccount:kube-system:node-upgrade" */
    user: string;
    rules: PolicyRule[];
}

/** What RBAC looks at in a request (authorizer.Attributes). */
export interface RequestAttributes {
    resourceRequest: boolean;
    verb: string;
    apiGroup: string;
    resource: string;
    subresource: string;
    namespace: string;
    name: string;
    /** for non-resource requests */
    path: string;
}

/**
 * What every authenticated user may do (the default system:discovery, system:public-info-viewer and
 * system:basic-user roles): GET discovery, /version, health and /openapi; ask what it may do itself
 * (kubectl auth can-i) and who it is (kubectl auth whoami).
 */
export const DEFAULT_RULES: PolicyRule[] = [
    {
        verbs: ["get"],
        nonResourceURLs: [
            "/api",
            "/api/*",
            "/apis",
            "/apis/*",
            "/healthz",
            "/livez",
            "/readyz",
            "/version",
            "/version/",
            "/openapi",
            "/openapi/*",
        ],
    },
    { verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"] },
    { verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"] },
];

/**
 * The rules of a ClusterRole (or Role) in a YAML or JSON text of one or more documents, e.g. deploy/rbac.yaml.
 * `name` picks one when there are several.
 */
export function clusterRoleRules(text: string, name?: string): PolicyRule[] {
    const docs = YAML.parseAllDocuments(text).map((d) => {
        if (d.errors.length) throw new Error(`invalid YAML: ${d.errors[0].message}`);
        return d.toJS();
    });
    const items = docs.flatMap((d: any) => (d?.kind === "List" && Array.isArray(d.items) ? d.items : [d]));
    const roles = items.filter((o: any) => o && (o.kind === "ClusterRole" || o.kind === "Role") && (!name || o.metadata?.name === name));
    if (roles.length === 0)
        throw new Error(name ? `no ClusterRole or Role named ${JSON.stringify(name)} found` : "no ClusterRole or Role found");
    if (roles.length > 1) throw new Error(`several roles found (${roles.map((r: any) => r.metadata?.name).join(", ")}); say which one`);
    const rules = roles[0].rules ?? [];
    if (!Array.isArray(rules)) throw new Error("rules must be a list");
    return rules.map((r: any, i: number) => validateRule(r, i));
}

export function clusterRoleRulesFromFile(file: string, name?: string): PolicyRule[] {
    try {
        return clusterRoleRules(fs.readFileSync(file, "utf8"), name);
    } catch (e) {
        throw new Error(`cannot load RBAC rules from ${file}: ${(e as Error).message}`);
    }
}

function validateRule(r: any, i: number): PolicyRule {
    const list = (k: string): string[] | undefined => {
        if (r?.[k] === undefined) return undefined;
        if (!Array.isArray(r[k]) || r[k].some((x: unknown) => typeof x !== "string"))
            throw new Error(`rules[${i}].${k} must be a list of strings`);
        return r[k];
    };
    const verbs = list("verbs");
    if (!verbs || verbs.length === 0) throw new Error(`rules[${i}].verbs must not be empty`);
    const rule: PolicyRule = {
        verbs,
        apiGroups: list("apiGroups"),
        resources: list("resources"),
        resourceNames: list("resourceNames"),
        nonResourceURLs: list("nonResourceURLs"),
    };
    if (rule.nonResourceURLs && rule.resources) throw new Error(`rules[${i}] mixes resources and nonResourceURLs`);
    return rule;
}

/** Request attributes as kube-apiserver's RequestInfo resolver derives them. */
export function resourceAttributes(info: RequestInfo, query: URLSearchParams, path: string): RequestAttributes {
    let name = info.name ?? "";
    // A list or watch of one object by field selector counts as a request for that name.
    if (!name && (info.verb === "list" || info.verb === "watch")) {
        for (const part of (query.get("fieldSelector") ?? "").split(",")) {
            const m = /^metadata\.name(?:==?)(.+)$/.exec(part.trim());
            if (m) name = m[1];
        }
    }
    return {
        resourceRequest: true,
        verb: info.verb,
        apiGroup: info.group,
        resource: info.resource.plural,
        subresource: info.subresource ?? "",
        namespace: info.namespace ?? "",
        name,
        path,
    };
}

export function nonResourceAttributes(method: string, path: string): RequestAttributes {
    return {
        resourceRequest: false,
        verb: method.toLowerCase(),
        apiGroup: "",
        resource: "",
        subresource: "",
        namespace: "",
        name: "",
        path,
    };
}

const has = (list: string[] | undefined, v: string) => !!list && (list.includes("*") || list.includes(v));

function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
    for (const r of rule.resources ?? []) {
        if (r === "*" || r === combined) return true;
        if (!subresource) continue;
        if (r.length === subresource.length + 2 && r.startsWith("*/") && r.endsWith(subresource)) return true;
    }
    return false;
}

function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
    for (const u of rule.nonResourceURLs ?? []) {
        if (u === "*" || u === path) return true;
        if (u.endsWith("*") && path.startsWith(u.slice(0, -1))) return true;
    }
    return false;
}

export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
    if (!has(rule.verbs, a.verb)) return false;
    if (!a.resourceRequest) return nonResourceURLMatches(rule, a.path);
    const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    if (!has(rule.apiGroups, a.apiGroup)) return false;
    if (!resourceMatches(rule, combined, a.subresource)) return false;
    return !rule.resourceNames || rule.resourceNames.length === 0 || rule.resourceNames.includes(a.name);
}

/** The 403 kube-apiserver answers, with its exact message. */
export function forbidden(user: string, a: RequestAttributes): ApiError {
    let msg = `User ${JSON.stringify(user)} cannot ${a.verb}`;
    if (a.resourceRequest) {
        const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
        msg += ` resource ${JSON.stringify(res)} in API group ${JSON.stringify(a.apiGroup)}`;
        msg += a.namespace ? ` in the namespace ${JSON.stringify(a.namespace)}` : " at the cluster scope";
    } else {
        msg += ` path ${JSON.stringify(a.path)}`;
    }
    const groupResource = a.resource ? (a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource) : "";
    const message = !groupResource
        ? `forbidden: ${msg}`
        : a.name
          ? `${groupResource} ${JSON.stringify(a.name)} is forbidden: ${msg}`
          : `${groupResource} is forbidden: ${msg}`;
    const details: Record<string, string> = {};
    if (a.name) details.name = a.name;
    if (a.apiGroup) details.group = a.apiGroup;
    if (a.resource) details.kind = a.resource;
    return new ApiError(403, "Forbidden", message, details);
}
