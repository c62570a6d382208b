// Label and field selectors: the query-string syntax (labelSelector=,
// fieldSelector=) and the metav1.LabelSelector object form used in specs.

import { badRequest } from "./status-errors";
import type { K8sObject } from "./store";

export type LabelOp = "=" | "!=" | "in" | "notin" | "exists" | "!";
export interface LabelRequirement {
    key: string;
    op: LabelOp;
    values: string[];
}

/** A compiled selector; `matchesNothing` is the "null selector" case. */
export interface LabelMatcher {
    requirements: LabelRequirement[];
    matchesNothing?: boolean;
}

export const EVERYTHING: LabelMatcher = { requirements: [] };
export const NOTHING: LabelMatcher = { requirements: [], matchesNothing: true };

/** Parse `a=b,c!=d,e in (x,y),f notin (z),g,!h`. Throws a 400 ApiError. */
export function parseLabelSelector(s: string | undefined | null): LabelMatcher {
    if (!s || !s.trim()) return EVERYTHING;
    const reqs: LabelRequirement[] = [];
    for (const part of splitTopLevel(s)) {
        const p = part.trim();
        if (!p) throw badRequest(`unable to parse requirement: found '', expected: identifier`);
        let m: RegExpMatchArray | null;
        if ((m = p.match(/^([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
            const values = m[3]
                .split(",")
                .map((v) => v.trim())
                .filter((v) => v !== "");
            reqs.push({ key: m[1], op: m[2] as LabelOp, values });
        } else if ((m = p.match(/^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/))) {
            reqs.push({ key: m[1], op: m[2] === "!=" ? "!=" : "=", values: [m[3]] });
        } else if ((m = p.match(/^!\s*([^\s!=(),]+)$/))) {
            reqs.push({ key: m[1], op: "!", values: [] });
        } else if ((m = p.match(/^([^\s!=(),]+)$/))) {
            reqs.push({ key: m[1], op: "exists", values: [] });
        } else {
            throw badRequest(`unable to parse requirement: invalid label selector: ${JSON.stringify(p)}`);
        }
    }
    return { requirements: reqs };
}

function splitTopLevel(s: string): string[] {
    const out: string[] = [];
    let depth = 0;
    let cur = "";
    for (const ch of s) {
        if (ch === "(") depth++;
        if (ch === ")") depth--;
        if (ch === "," && depth === 0) {
            out.push(cur);
            cur = "";
        } else cur += ch;
    }
    out.push(cur);
    return out;
}

export function matchLabels(m: LabelMatcher, labels: Record<string, string> | undefined): boolean {
    if (m.matchesNothing) return false;
    const l = labels ?? {};
    for (const r of m.requirements) {
        const has = Object.prototype.hasOwnProperty.call(l, r.key);
        const v = l[r.key];
        switch (r.op) {
            case "=":
                if (!has || v !== r.values[0]) return false;
                break;
            case "!=":
                if (has && v === r.values[0]) return false;
                break;
            case "in":
                if (!has || !r.values.includes(v)) return false;
                break;
            case "notin":
                if (has && r.values.includes(v)) return false;
                break;
            case "exists":
                if (!has) return false;
                break;
            case "!":
                if (has) return false;
                break;
        }
    }
    return true;
}

/**
 * Compile a metav1.LabelSelector. `null`/`undefined` matches nothing (the PDB
 * and ReplicaSet rule); `{}` matches everything. Returns undefined if invalid.
 */
export function labelSelectorFromSpec(sel: any): LabelMatcher | undefined {
    if (sel === null || sel === undefined) return NOTHING;
    const reqs: LabelRequirement[] = [];
    for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key: k, op: "=", values: [String(v)] });
    for (const e of sel.matchExpressions ?? []) {
        switch (e.operator) {
            case "In":
                if (!e.values?.length) return undefined;
                reqs.push({ key: e.key, op: "in", values: e.values });
                break;
            case "NotIn":
                if (!e.values?.length) return undefined;
                reqs.push({ key: e.key, op: "notin", values: e.values });
                break;
            case "Exists":
                reqs.push({ key: e.key, op: "exists", values: [] });
                break;
            case "DoesNotExist":
                reqs.push({ key: e.key, op: "!", values: [] });
                break;
            default:
                return undefined;
        }
    }
    return { requirements: reqs };
}

/** The string form kubectl prints (`app=web,tier in (a,b)`). */
export function formatLabelSelector(sel: any): string {
    if (!sel) return "<none>";
    const parts: string[] = [];
    for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`);
    for (const e of sel.matchExpressions ?? []) {
        const op = { In: "in", NotIn: "notin", Exists: "", DoesNotExist: "!" }[e.operator as string];
        if (e.operator === "Exists") parts.push(e.key);
        else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
        else parts.push(`${e.key} ${op} (${(e.values ?? []).join(",")})`);
    }
    return parts.length ? parts.join(",") : "<none>";
}

// ---- field selectors --------------------------------------------------------

export interface FieldRequirement {
    field: string;
    op: "=" | "!=";
    value: string;
}

const COMMON_FIELDS = ["metadata.name", "metadata.namespace"];
const FIELDS: Record<string, string[]> = {
    pods: [
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ],
    nodes: ["spec.unschedulable"],
    namespaces: ["status.phase"],
    events: [
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ],
    replicasets: ["status.replicas"],
};

export function parseFieldSelector(resource: string, s: string | undefined | null): FieldRequirement[] {
    if (!s || !s.trim()) return [];
    const out: FieldRequirement[] = [];
    for (const part of s.split(",")) {
        const m = part.trim().match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
        if (!m) throw badRequest(`invalid selector: '${s}'; can't understand '${part}'`);
        const field = m[1].trim();
        if (!COMMON_FIELDS.includes(field) && !(FIELDS[resource] ?? []).includes(field)) {
            throw badRequest(`field label not supported: ${field}`);
        }
        out.push({ field, op: m[2] === "!=" ? "!=" : "=", value: m[3].trim() });
    }
    return out;
}

function fieldValue(obj: K8sObject, field: string): string {
    if (field === "source") return obj.source?.component ?? "";
    let v: any = obj;
    for (const p of field.split(".")) v = v?.[p];
    if (v === undefined || v === null) {
        if (field === "spec.unschedulable" || field === "spec.hostNetwork") return "false";
        return "";
    }
    return String(v);
}

export function matchFields(reqs: FieldRequirement[], obj: K8sObject): boolean {
    for (const r of reqs) {
        const v = fieldValue(obj, r.field);
        if (r.op === "=" ? v !== r.value : v === r.value) return false;
    }
    return true;
}
