// The pods/eviction subresource: drain-spec §5.1 step by step, with the §5.5
// response bodies. Runs synchronously, so the PDB read-check-write cannot race
// (the real server's 409 retry loop is therefore never needed).

import type { Registry } from "./registry";
import { resourceByPlural } from "./resources";
import { labelSelectorFromSpec, matchLabels } from "./selectors";
import { ApiError, badRequest, namespaceNotFound, namespaceTerminating, notFound } from "./status-errors";
import { K8sObject, clone } from "./store";
import { DeleteOptions } from "./deletion";
import { rfc3339 } from "../clock";

const PODS = resourceByPlural("pods")!;
const PDBS = resourceByPlural("poddisruptionbudgets")!;

export const EVICTION_SUCCESS = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 };

const VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget.";

function tooManyRequests(cause: string, retryAfter?: number): ApiError {
    const details: any = { causes: [{ reason: "DisruptionBudget", message: cause }] };
    if (retryAfter) details.retryAfterSeconds = retryAfter;
    return new ApiError(429, "TooManyRequests", VIOLATION, details);
}

function stillProcessing(pdbName: string): ApiError {
    return tooManyRequests(`The disruption budget ${pdbName} is still being processed by the server.`, 10);
}

function pdbForbidden(pdbName: string, why: string): ApiError {
    return new ApiError(403, "Forbidden", `poddisruptionbudget.policy "${pdbName}" is forbidden: ${why}`, {
        name: pdbName,
        group: "policy",
        kind: "poddisruptionbudget",
    });
}

export function isPodReady(pod: K8sObject): boolean {
    return (pod.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
}

/** PDBs in the pod's namespace whose selector matches the pod (null selector matches nothing). */
export function matchingPdbs(reg: Registry, pod: K8sObject): K8sObject[] {
    return reg.list(PDBS, { namespace: pod.metadata.namespace }).filter((pdb) => {
        const m = labelSelectorFromSpec(pdb.spec?.selector);
        return m !== undefined && matchLabels(m, pod.metadata.labels);
    });
}

export interface EvictionRequest {
    namespace: string;
    name: string;
    body: any;
    queryDryRun: boolean;
}

/** Returns the 201 Status on success; throws ApiError otherwise. */
export function evictPod(reg: Registry, req: EvictionRequest): any {
    const body = req.body ?? {};
    // 1. validate
    if (body.kind !== undefined && body.kind !== "Eviction") throw badRequest(`not a Eviction object: ${JSON.stringify(body.kind)}`);
    if (body.metadata?.name !== undefined && body.metadata.name !== req.name) {
        throw badRequest("name in URL does not match name in Eviction object");
    }
    const deleteOptions: DeleteOptions = clone(body.deleteOptions ?? {});
    // 2. dry-run options must agree
    const bodyDryRun = Array.isArray(deleteOptions.dryRun) && deleteOptions.dryRun.includes("All");
    if (req.queryDryRun && deleteOptions.dryRun && deleteOptions.dryRun.length && !bodyDryRun) {
        throw badRequest(`Non-matching dry-run options in request and content: [All] and ${JSON.stringify(deleteOptions.dryRun)}`);
    }
    const dryRun = req.queryDryRun || bodyDryRun;

    // 3. admission: NamespaceLifecycle
    const ns = reg.store.get("namespaces", undefined, req.namespace);
    if (!ns) throw namespaceNotFound(req.namespace);
    if (ns.status?.phase === "Terminating") throw namespaceTerminating(PODS, req.name, req.namespace);

    // 4.1 get the pod
    const pod = reg.tryGet(PODS, req.namespace, req.name);
    if (!pod) throw notFound(PODS, req.name);
    const clientGaveRv = !!deleteOptions.preconditions?.resourceVersion;

    // 4.2 canIgnorePDB: terminal, pending, or already terminating
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed" || phase === "Pending" || pod.metadata.deletionTimestamp) {
        const opts = clone(deleteOptions);
        const terminalOrTerminating = phase === "Succeeded" || phase === "Failed" || !!pod.metadata.deletionTimestamp;
        if (!terminalOrTerminating && !clientGaveRv) {
            opts.preconditions = { ...(opts.preconditions ?? {}), resourceVersion: pod.metadata.resourceVersion };
        }
        addConditionAndDelete(reg, pod, opts, dryRun, false);
        return EVICTION_SUCCESS;
    }

    // 5. matching PDBs
    const pdbs = matchingPdbs(reg, pod);
    if (pdbs.length > 1) {
        throw new ApiError(
            500,
            undefined,
            "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
        );
    }
    const opts = clone(deleteOptions);
    let serverAddedRv = false;
    if (pdbs.length === 1) {
        const pdb = pdbs[0];
        if (!isPodReady(pod)) {
            const policy = pdb.spec?.unhealthyPodEvictionPolicy;
            const st = pdb.status ?? {};
            const healthyEnough = (st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0) && (st.desiredHealthy ?? 0) > 0;
            if (policy === "AlwaysAllow" || healthyEnough) {
                if (!clientGaveRv) {
                    opts.preconditions = { ...(opts.preconditions ?? {}), resourceVersion: pod.metadata.resourceVersion };
                    serverAddedRv = true;
                }
                addConditionAndDelete(reg, pod, opts, dryRun, serverAddedRv, pdb.metadata.name);
                return EVICTION_SUCCESS;
            }
        }
        checkAndDecrement(reg, pod, pdb, dryRun);
    }
    // 7. delete
    addConditionAndDelete(reg, pod, opts, dryRun, serverAddedRv, pdbs[0]?.metadata.name);
    return EVICTION_SUCCESS;
}

function checkAndDecrement(reg: Registry, pod: K8sObject, pdb: K8sObject, dryRun: boolean): void {
    const name = pdb.metadata.name;
    const st = pdb.status ?? {};
    if ((st.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) throw stillProcessing(name);
    const allowed = st.disruptionsAllowed ?? 0;
    if (allowed < 0) throw pdbForbidden(name, "pdb disruptions allowed is negative");
    if (Object.keys(st.disruptedPods ?? {}).length > 2000) {
        throw pdbForbidden(name, "DisruptedPods map too big - too many evictions not confirmed by PDB controller");
    }
    if (allowed === 0) {
        throw tooManyRequests(
            `The disruption budget ${name} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently`,
        );
    }
    const updated = clone(pdb);
    updated.status.disruptionsAllowed = allowed - 1;
    if (updated.status.disruptionsAllowed === 0) {
        const conds: any[] = (updated.status.conditions ??= []);
        const i = conds.findIndex((c) => c.type === "DisruptionAllowed");
        const cond = {
            type: "DisruptionAllowed",
            status: "False",
            reason: "InsufficientPods",
            message: "",
            observedGeneration: pdb.metadata.generation,
            lastTransitionTime: reg.clock.nowRfc3339(),
        };
        if (i >= 0) {
            if (conds[i].status === "False") cond.lastTransitionTime = conds[i].lastTransitionTime;
            conds[i] = cond;
        } else conds.push(cond);
    }
    if (dryRun) return;
    updated.status.disruptedPods = { ...(updated.status.disruptedPods ?? {}), [pod.metadata.name]: reg.clock.nowRfc3339() };
    reg.writeUpdate(PDBS, pdb, updated, { subresource: "status" });
}

/** Step 7: add DisruptionTarget=True to the pod status, then delete it. */
function addConditionAndDelete(
    reg: Registry,
    pod: K8sObject,
    opts: DeleteOptions,
    dryRun: boolean,
    serverAddedRv: boolean,
    pdbName?: string,
): void {
    if (!dryRun) {
        const current = reg.mutate(
            PODS,
            pod.metadata.namespace,
            pod.metadata.name,
            (p) => {
                p.status ??= {};
                const conds: any[] = (p.status.conditions ??= []);
                const cond = {
                    type: "DisruptionTarget",
                    status: "True",
                    lastProbeTime: null,
                    lastTransitionTime: rfc3339(reg.clock.nowMs()),
                    reason: "EvictionByEvictionAPI",
                    message: "Eviction API: evicting",
                };
                const i = conds.findIndex((c) => c.type === "DisruptionTarget");
                if (i >= 0) {
                    if (conds[i].status === "True") cond.lastTransitionTime = conds[i].lastTransitionTime;
                    conds[i] = cond;
                } else conds.push(cond);
            },
            { subresource: "status" },
        )!;
        // the server moved the pod forward itself, so move its own precondition too
        if (opts.preconditions?.resourceVersion && opts.preconditions.resourceVersion === pod.metadata.resourceVersion) {
            opts.preconditions = { ...opts.preconditions, resourceVersion: current.metadata.resourceVersion };
        }
    }
    try {
        reg.delete(PODS, pod.metadata.namespace, pod.metadata.name, opts, { dryRun });
    } catch (e) {
        if (e instanceof ApiError && e.code === 409 && serverAddedRv && pdbName) throw stillProcessing(pdbName);
        throw e;
    }
}
