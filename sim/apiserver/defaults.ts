// Defaulting and create-time preparation, like kube-apiserver's defaulters and
// strategies' PrepareForCreate. Kept small: only fields clients and controllers
// in this project look at.

export function defaultPodSpec(spec: any): void {
    if (!spec) return;
    spec.restartPolicy ??= "Always";
    spec.terminationGracePeriodSeconds ??= 30;
    spec.dnsPolicy ??= "ClusterFirst";
    spec.schedulerName ??= "default-scheduler";
    spec.securityContext ??= {};
    spec.enableServiceLinks ??= true;
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
        c.resources ??= {};
        c.terminationMessagePath ??= "/dev/termination-log";
        c.terminationMessagePolicy ??= "File";
        c.imagePullPolicy ??= c.image && /:latest$|^[^:]+$/.test(String(c.image).split("/").pop() ?? "") ? "Always" : "IfNotPresent";
    }
}

function defaultTemplate(tpl: any): void {
    if (!tpl) return;
    tpl.metadata ??= {};
    defaultPodSpec(tpl.spec);
}

export function qosClass(spec: any): string {
    let anyReq = false;
    let guaranteed = true;
    for (const c of spec?.containers ?? []) {
        const req = c.resources?.requests ?? {};
        const lim = c.resources?.limits ?? {};
        if (Object.keys(req).length || Object.keys(lim).length) anyReq = true;
        for (const k of ["cpu", "memory"]) {
            const r = req[k] ?? lim[k];
            if (!lim[k] || r !== lim[k]) guaranteed = false;
        }
    }
    if (!anyReq) return "BestEffort";
    return guaranteed ? "Guaranteed" : "Burstable";
}

/** Default tolerations added by the DefaultTolerationSeconds admission plugin. */
function addDefaultTolerations(spec: any): void {
    const tol: any[] = (spec.tolerations ??= []);
    for (const key of ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]) {
        if (!tol.some((t) => t.key === key && (t.effect === "NoExecute" || !t.effect))) {
            tol.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
        }
    }
}

/** Apply defaults to a new object of the given resource (mutates). */
export function applyCreateDefaults(resource: string, obj: any): void {
    switch (resource) {
        case "pods":
            obj.spec ??= {};
            defaultPodSpec(obj.spec);
            addDefaultTolerations(obj.spec);
            // PrepareForCreate: status is reset
            obj.status = { phase: "Pending", qosClass: qosClass(obj.spec) };
            break;
        case "deployments":
            obj.spec ??= {};
            obj.spec.replicas ??= 1;
            obj.spec.revisionHistoryLimit ??= 10;
            obj.spec.progressDeadlineSeconds ??= 600;
            obj.spec.strategy ??= { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } };
            defaultTemplate(obj.spec.template);
            obj.status = {};
            break;
        case "replicasets":
            obj.spec ??= {};
            obj.spec.replicas ??= 1;
            defaultTemplate(obj.spec.template);
            obj.status = { replicas: 0 };
            break;
        case "daemonsets":
            obj.spec ??= {};
            obj.spec.revisionHistoryLimit ??= 10;
            obj.spec.updateStrategy ??= { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
            defaultTemplate(obj.spec.template);
            obj.status = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 };
            break;
        case "statefulsets":
            obj.spec ??= {};
            obj.spec.replicas ??= 1;
            obj.spec.podManagementPolicy ??= "OrderedReady";
            obj.spec.updateStrategy ??= { type: "RollingUpdate", rollingUpdate: { partition: 0 } };
            obj.spec.revisionHistoryLimit ??= 10;
            defaultTemplate(obj.spec.template);
            obj.status = { replicas: 0, availableReplicas: 0 };
            break;
        case "poddisruptionbudgets":
            obj.spec ??= {};
            obj.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
            break;
        case "namespaces":
            obj.spec ??= {};
            obj.spec.finalizers ??= ["kubernetes"];
            obj.status = { phase: "Active" };
            obj.metadata.labels = { ...(obj.metadata.labels ?? {}), "kubernetes.io/metadata.name": obj.metadata.name };
            break;
        case "nodes":
            obj.spec ??= {};
            obj.status ??= {};
            break;
    }
}
