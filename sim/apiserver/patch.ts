// The three PATCH flavours kube-apiserver accepts (plus a simplified
// server-side apply). Each takes the current object and returns a new one.

import { applyPatch as applyJsonPatch, Operation } from "fast-json-patch";
import { ApiError, badRequest, unsupportedPatchType } from "./status-errors";

export type PatchType = "json" | "merge" | "strategic" | "apply";

export function patchTypeFromContentType(ct: string | undefined): PatchType {
    const base = (ct ?? "").split(";")[0].trim().toLowerCase();
    switch (base) {
        case "application/json-patch+json":
            return "json";
        case "application/merge-patch+json":
            return "merge";
        case "application/strategic-merge-patch+json":
            return "strategic";
        case "application/apply-patch+yaml":
        case "application/apply-patch+cbor":
            return "apply";
        default:
            throw unsupportedPatchType();
    }
}

/** JSON Patch (RFC 6902). A failing operation (e.g. replace on a missing path) is a 422. */
export function jsonPatch(current: any, ops: unknown): any {
    if (!Array.isArray(ops)) throw badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
    const doc = JSON.parse(JSON.stringify(current));
    try {
        return applyJsonPatch(doc, ops as Operation[], true, true).newDocument;
    } catch (e) {
        // kube-apiserver: errors.NewGenericServerResponse(422, ...) around the jsonpatch error
        throw new ApiError(422, "Invalid", "the server rejected our request due to an error in our request", {});
    }
}

/** JSON Merge Patch (RFC 7386): objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: any, patch: any): any {
    if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
    const out: any = target && typeof target === "object" && !Array.isArray(target) ? { ...target } : {};
    for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete out[k];
        else out[k] = mergePatch(out[k], v);
    }
    return out;
}

// ---- strategic merge patch ---------------------------------------------------

/**
 * Lists that merge by a key instead of being replaced (patchMergeKey in the
 * Go types). The key is the field name; the few ambiguous names are resolved by
 * their parent field.
 */
const MERGE_KEYS: Record<string, string> = {
    containers: "name",
    initContainers: "name",
    ephemeralContainers: "name",
    volumes: "name",
    env: "name",
    volumeMounts: "mountPath",
    volumeDevices: "devicePath",
    imagePullSecrets: "name",
    conditions: "type",
    ownerReferences: "uid",
    addresses: "type",
    hostAliases: "ip",
    podIPs: "ip",
    hostIPs: "ip",
    resourceClaims: "name",
    topologySpreadConstraints: "topologyKey",
    ports: "containerPort",
};

/** Primitive lists with patchStrategy "merge" (union). */
const MERGE_PRIMITIVE_LISTS = new Set(["finalizers"]);

export function strategicMergePatch(current: any, patch: any): any {
    if (patch === null || typeof patch !== "object" || Array.isArray(patch)) {
        throw badRequest("unable to find api field in struct for the patch");
    }
    return smpMap(current ?? {}, patch);
}

function smpMap(orig: any, patch: any): any {
    if (patch.$patch === "replace") {
        const { $patch, ...rest } = patch;
        return stripDirectives(rest);
    }
    if (patch.$patch === "delete") return undefined;
    const out: any = orig && typeof orig === "object" && !Array.isArray(orig) ? { ...orig } : {};
    for (const [k, v] of Object.entries(patch)) {
        if (k === "$patch" || k.startsWith("$setElementOrder/")) continue;
        if (k === "$retainKeys") continue;
        if (k.startsWith("$deleteFromPrimitiveList/")) {
            const field = k.slice("$deleteFromPrimitiveList/".length);
            if (Array.isArray(out[field]) && Array.isArray(v)) {
                out[field] = out[field].filter((x: any) => !(v as any[]).includes(x));
            }
            continue;
        }
        if (v === null) {
            delete out[k];
        } else if (Array.isArray(v)) {
            out[k] = smpList(k, out[k], v);
        } else if (typeof v === "object") {
            const merged = smpMap(out[k], v);
            if (merged === undefined) delete out[k];
            else out[k] = merged;
        } else {
            out[k] = v;
        }
    }
    if (Array.isArray(patch.$retainKeys)) {
        for (const k of Object.keys(out)) if (!patch.$retainKeys.includes(k) && !(k in patch)) delete out[k];
    }
    return out;
}

function smpList(field: string, orig: any, patch: any[]): any[] {
    if (MERGE_PRIMITIVE_LISTS.has(field)) {
        const base: any[] = Array.isArray(orig) ? [...orig] : [];
        for (const x of patch) if (!base.includes(x)) base.push(x);
        return base;
    }
    const key = MERGE_KEYS[field];
    if (!key || !patch.every((e) => e && typeof e === "object")) return stripDirectives(patch);
    if (patch.some((e) => e.$patch === "replace")) return stripDirectives(patch.filter((e) => e.$patch !== "replace"));
    const out: any[] = Array.isArray(orig) ? [...orig] : [];
    for (const el of patch) {
        const idx = out.findIndex((o) => o && o[key] === el[key]);
        if (el.$patch === "delete") {
            if (idx >= 0) out.splice(idx, 1);
            continue;
        }
        if (idx >= 0) out[idx] = smpMap(out[idx], el);
        else out.push(stripDirectives(el));
    }
    return out;
}

function stripDirectives(v: any): any {
    if (Array.isArray(v)) return v.map(stripDirectives);
    if (v && typeof v === "object") {
        const out: any = {};
        for (const [k, x] of Object.entries(v)) {
            if (k.startsWith("$")) continue;
            if (x === null) continue;
            out[k] = stripDirectives(x);
        }
        return out;
    }
    return v;
}

/**
 * Simplified server-side apply: the applied configuration is merged into the
 * live object with strategic-merge rules (no field ownership tracking).
 */
export function applyPatch(current: any, applied: any): any {
    return strategicMergePatch(current ?? {}, applied);
}
