// "What the API server does" to objects: create/update/patch/delete with
// Kubernetes semantics (defaulting, resourceVersion checks, generation,
// status subresource separation, namespace lifecycle, no-op detection).
//
// Both the HTTP handlers and the controllers write through this class, so the
// controllers see exactly the same semantics as clients (minus HTTP faults).

import { SimClock } from "../clock";
import { Prng } from "../random";
import { applyCreateDefaults } from "./defaults";
import { DeleteOptions, deleteObject, DeleteResult } from "./deletion";
import { applyPatch, jsonPatch, mergePatch, PatchType, strategicMergePatch } from "./patch";
import { ResourceInfo, apiVersionOf, groupKind, resourceByPlural } from "./resources";
import { FieldRequirement, LabelMatcher, matchFields, matchLabels } from "./selectors";
import {
    ApiError,
    alreadyExists,
    badRequest,
    conflictModified,
    invalid,
    namespaceNotFound,
    namespaceTerminating,
    notFound,
} from "./status-errors";
import { K8sObject, Store, clone, jsonOf } from "./store";

export interface WriteOptions {
    dryRun?: boolean;
    /** "status" to write the status subresource */
    subresource?: string;
}

export interface ListQuery {
    namespace?: string;
    labels?: LabelMatcher;
    fields?: FieldRequirement[];
}

export class Registry {
    constructor(
        readonly store: Store,
        readonly clock: SimClock,
        readonly rng: Prng,
    ) {}

    // ---- reads ---------------------------------------------------------------

    tryGet(r: ResourceInfo, namespace: string | undefined, name: string): K8sObject | undefined {
        return this.store.get(r.plural, r.namespaced ? namespace : undefined, name);
    }

    get(r: ResourceInfo, namespace: string | undefined, name: string): K8sObject {
        const o = this.tryGet(r, namespace, name);
        if (!o) throw notFound(r, name);
        return o;
    }

    /** Filtered list, using the node index for spec.nodeName=X pod queries. */
    list(r: ResourceInfo, q: ListQuery = {}): K8sObject[] {
        let items: K8sObject[];
        const nodeReq = r.plural === "pods" ? q.fields?.find((f) => f.field === "spec.nodeName" && f.op === "=") : undefined;
        const nameReq = q.fields?.find((f) => f.field === "metadata.name" && f.op === "=");
        if (nodeReq) {
            items = this.store.podsOnNode(nodeReq.value);
            if (q.namespace) items = items.filter((p) => p.metadata.namespace === q.namespace);
            items.sort((a, b) => cmpKey(a, b));
        } else if (nameReq && (!r.namespaced || q.namespace)) {
            const o = this.tryGet(r, q.namespace, nameReq.value);
            items = o ? [o] : [];
        } else {
            items = this.store.list(r.plural, r.namespaced ? q.namespace : undefined);
        }
        if (q.labels && q.labels.requirements.length) items = items.filter((o) => matchLabels(q.labels!, o.metadata.labels));
        if (q.fields && q.fields.length) items = items.filter((o) => matchFields(q.fields!, o));
        return items;
    }

    // ---- create --------------------------------------------------------------

    create(r: ResourceInfo, namespace: string | undefined, body: K8sObject, opts: WriteOptions = {}): K8sObject {
        if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest("the object provided is unrecognized");
        const obj = clone(body);
        obj.apiVersion = apiVersionOf(r);
        obj.kind = r.kind;
        obj.metadata ??= {};
        const meta = obj.metadata;
        if (r.namespaced) {
            if (meta.namespace && namespace && meta.namespace !== namespace) {
                throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
            }
            meta.namespace = namespace ?? meta.namespace ?? "default";
        } else {
            delete meta.namespace;
        }
        if (!meta.name && meta.generateName) meta.name = this.generateName(r, meta.namespace, meta.generateName);
        if (!meta.name) {
            throw invalid(r, "", [
                { field: "metadata.name", reason: "FieldValueRequired", message: "Required value: name or generateName is required" },
            ]);
        }
        this.validateName(r, meta.name);
        if (r.namespaced) this.admitNamespace(r, meta.namespace, meta.name);
        if (this.tryGet(r, meta.namespace, meta.name)) throw alreadyExists(r, meta.name);

        meta.uid = this.rng.uuid();
        meta.creationTimestamp = this.clock.nowRfc3339();
        delete meta.resourceVersion;
        delete meta.deletionTimestamp;
        delete meta.deletionGracePeriodSeconds;
        if (r.hasGeneration) meta.generation = 1;
        else delete meta.generation;
        applyCreateDefaults(r.plural, obj);
        this.validate(r, obj);
        if (opts.dryRun) return obj;
        return this.store.put(r.plural, obj);
    }

    private generateName(r: ResourceInfo, ns: string | undefined, prefix: string): string {
        for (let i = 0; i < 20; i++) {
            const name = `${prefix}${this.rng.nameSuffix()}`;
            if (!this.tryGet(r, ns, name)) return name;
        }
        throw new ApiError(500, "InternalError", "could not generate a unique name");
    }

    private validateName(r: ResourceInfo, name: string): void {
        if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
            throw invalid(r, name, [
                {
                    field: "metadata.name",
                    reason: "FieldValueInvalid",
                    message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
                },
            ]);
        }
    }

    /** NamespaceLifecycle admission for creates. */
    admitNamespace(r: ResourceInfo, namespace: string, name: string): void {
        const ns = this.store.get("namespaces", undefined, namespace);
        if (!ns) throw namespaceNotFound(namespace);
        if (ns.status?.phase === "Terminating" && r.plural !== "events") throw namespaceTerminating(r, name, namespace);
    }

    private validate(r: ResourceInfo, obj: K8sObject): void {
        if (r.plural === "poddisruptionbudgets") {
            if (obj.spec?.minAvailable !== undefined && obj.spec?.maxUnavailable !== undefined) {
                throw invalid(r, obj.metadata.name, [
                    {
                        field: "spec",
                        reason: "FieldValueInvalid",
                        message: `Invalid value: ${jsonForMsg(obj.spec)}: minAvailable and maxUnavailable cannot be both set`,
                    },
                ]);
            }
        }
        if (r.plural === "pods" && !(obj.spec?.containers ?? []).length) {
            throw invalid(r, obj.metadata.name, [{ field: "spec.containers", reason: "FieldValueRequired", message: "Required value" }]);
        }
    }

    // ---- update / patch --------------------------------------------------------

    /** PUT. `body` is the full object as sent by the client. */
    update(r: ResourceInfo, namespace: string | undefined, name: string, body: K8sObject, opts: WriteOptions = {}): K8sObject {
        if (!body || typeof body !== "object") throw badRequest("the object provided is unrecognized");
        if (body.metadata?.name && body.metadata.name !== name) {
            throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
        }
        if (r.namespaced && body.metadata?.namespace && body.metadata.namespace !== namespace) {
            throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
        }
        const current = this.get(r, namespace, name);
        return this.writeUpdate(r, current, clone(body), opts);
    }

    patch(
        r: ResourceInfo,
        namespace: string | undefined,
        name: string,
        type: PatchType,
        patchBody: any,
        opts: WriteOptions = {},
    ): K8sObject {
        const current = this.tryGet(r, namespace, name);
        if (!current) {
            if (type === "apply" && !opts.subresource)
                return this.create(r, namespace, { ...patchBody, metadata: { ...(patchBody?.metadata ?? {}), name } }, opts);
            throw notFound(r, name);
        }
        const base = clone(current);
        let next: any;
        switch (type) {
            case "json":
                next = jsonPatch(base, patchBody);
                break;
            case "merge":
                if (!patchBody || typeof patchBody !== "object" || Array.isArray(patchBody))
                    throw badRequest("json: cannot unmarshal array into Go value of type map[string]interface {}");
                next = mergePatch(base, patchBody);
                break;
            case "strategic":
                next = strategicMergePatch(base, patchBody);
                break;
            case "apply":
                next = applyPatch(base, patchBody);
                break;
        }
        if (!next || typeof next !== "object") throw badRequest("the patched object is not an object");
        if (next.metadata?.name !== undefined && next.metadata.name !== name) {
            throw new ApiError(
                422,
                "Invalid",
                `${groupKind(r)} "${name}" is invalid: metadata.name: Invalid value: "${next.metadata.name}": field is immutable`,
            );
        }
        return this.writeUpdate(r, current, next, opts);
    }

    /**
     * Common tail of PUT/PATCH and of controller writes: enforce resourceVersion,
     * keep immutable metadata, separate spec and status, bump generation, and
     * finish deletion when the last finalizer goes away.
     */
    writeUpdate(r: ResourceInfo, current: K8sObject, next: K8sObject, opts: WriteOptions = {}): K8sObject {
        const name = current.metadata.name;
        next.metadata ??= {};
        const rv = next.metadata.resourceVersion;
        if (rv !== undefined && rv !== "" && rv !== current.metadata.resourceVersion) throw conflictModified(r, name);
        if (next.metadata.uid && next.metadata.uid !== current.metadata.uid) {
            throw new ApiError(
                409,
                "Conflict",
                `Operation cannot be fulfilled on ${r.group ? `${r.plural}.${r.group}` : r.plural} "${name}": Precondition failed: UID in precondition: ${next.metadata.uid}, UID in object meta: ${current.metadata.uid}`,
                { name, kind: r.plural },
            );
        }

        let out: any;
        if (opts.subresource === "status") {
            // status writes change only .status
            out = clone(current);
            if (next.status === undefined) delete out.status;
            else out.status = next.status;
        } else {
            out = next;
            out.apiVersion = apiVersionOf(r);
            out.kind = r.kind;
            const m = out.metadata;
            const cm = current.metadata;
            m.name = cm.name;
            if (r.namespaced) m.namespace = cm.namespace;
            else delete m.namespace;
            m.uid = cm.uid;
            m.creationTimestamp = cm.creationTimestamp;
            if (cm.deletionTimestamp) m.deletionTimestamp = cm.deletionTimestamp;
            else delete m.deletionTimestamp;
            if (cm.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = cm.deletionGracePeriodSeconds;
            else delete m.deletionGracePeriodSeconds;
            if (cm.generation !== undefined) m.generation = cm.generation;
            else delete m.generation;
            if (r.hasStatus) {
                if (current.status === undefined) delete out.status;
                else out.status = current.status;
            }
            if (r.plural === "pods") {
                // spec.nodeName is only set through binding (or by privileged writers)
                if (current.spec?.nodeName && out.spec?.nodeName !== current.spec.nodeName) {
                    throw invalid(r, name, [
                        {
                            field: "spec",
                            reason: "FieldValueForbidden",
                            message:
                                "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
                        },
                    ]);
                }
            }
            if (r.hasGeneration && jsonOf(current.spec ?? null) !== JSON.stringify(out.spec ?? null)) {
                m.generation = (cm.generation ?? 0) + 1;
            }
            this.validate(r, out);
        }
        out.metadata.resourceVersion = current.metadata.resourceVersion;
        // a write that changes nothing does not bump the resourceVersion
        if (JSON.stringify(out) === jsonOf(current)) return current;
        if (opts.dryRun) return out;

        if (current.metadata.deletionTimestamp && !(out.metadata.finalizers ?? []).length && !current.metadata.deletionGracePeriodSeconds) {
            // last finalizer removed from an object whose deletion is due: it goes away now
            this.store.put(r.plural, out);
            return this.store.remove(r.plural, out.metadata.namespace, name);
        }
        return this.store.put(r.plural, out);
    }

    /**
     * Read-modify-write helper for controllers: `fn` mutates a copy; returns the
     * stored result, or undefined if the object does not exist.
     */
    mutate(
        r: ResourceInfo | string,
        namespace: string | undefined,
        name: string,
        fn: (o: any) => void | false,
        opts: WriteOptions = {},
    ): K8sObject | undefined {
        const ri = typeof r === "string" ? resourceByPlural(r)! : r;
        const current = this.tryGet(ri, namespace, name);
        if (!current) return undefined;
        const copy = clone(current);
        if (fn(copy) === false) return current;
        return this.writeUpdate(ri, current, copy, opts);
    }

    /** Privileged write of a whole object (spec and status), used by controllers (e.g. binding). */
    replaceDirect(r: ResourceInfo | string, obj: K8sObject): K8sObject {
        const ri = typeof r === "string" ? resourceByPlural(r)! : r;
        const current = this.tryGet(ri, obj.metadata.namespace, obj.metadata.name);
        if (!current) throw notFound(ri, obj.metadata.name);
        obj.metadata.resourceVersion = current.metadata.resourceVersion;
        if (JSON.stringify(obj) === jsonOf(current)) return current;
        return this.store.put(ri.plural, obj);
    }

    // ---- delete ----------------------------------------------------------------

    delete(
        r: ResourceInfo,
        namespace: string | undefined,
        name: string,
        options: DeleteOptions = {},
        opts: WriteOptions = {},
    ): DeleteResult {
        return deleteObject(this, r, namespace, name, options, !!opts.dryRun);
    }

    /** Load an object as-is (scenario files): keeps names, uids and status. */
    load(r: ResourceInfo, obj: K8sObject, quiet = true): K8sObject {
        const o = clone(obj);
        o.apiVersion = apiVersionOf(r);
        o.kind = r.kind;
        o.metadata ??= {};
        if (r.namespaced) o.metadata.namespace ??= "default";
        else delete o.metadata.namespace;
        o.metadata.uid ??= this.rng.uuid();
        o.metadata.creationTimestamp ??= this.clock.nowRfc3339();
        if (r.hasGeneration) o.metadata.generation ??= 1;
        delete o.metadata.managedFields;
        delete o.metadata.selfLink;
        if (r.plural === "namespaces") {
            o.status ??= { phase: "Active" };
            o.spec ??= { finalizers: ["kubernetes"] };
        }
        if (r.plural === "pods") {
            o.spec ??= {};
            o.spec.terminationGracePeriodSeconds ??= 30;
            o.status ??= { phase: "Pending" };
        }
        return this.store.put(r.plural, o, { quiet });
    }
}

function cmpKey(a: K8sObject, b: K8sObject): number {
    const ka = `${a.metadata.namespace ?? ""}/${a.metadata.name}`;
    const kb = `${b.metadata.namespace ?? ""}/${b.metadata.name}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function jsonForMsg(v: any): string {
    return JSON.stringify(v);
}
