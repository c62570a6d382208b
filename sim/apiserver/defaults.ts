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
        for (const port of c.ports ?? []) port.protocol ||= "TCP";
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

/** Priorities of the built-in PriorityClasses (scheduling.k8s.io; PriorityClasses themselves are not served). */
const SYSTEM_PRIORITIES: Record<string, number> = { "system-node-critical": 2000001000, "system-cluster-critical": 2000000000 };

/**
 * What kube-apiserver's admission adds to every new pod: the ServiceAccount admission plugin sets
 * serviceAccountName "default" (the v1 conversion mirrors it into the deprecated serviceAccount), the Priority
 * plugin resolves priorityClassName to spec.priority (0 without a class) and preemptionPolicy. Other class names
 * are taken as priority 0: the simulator serves no PriorityClasses a real server would look them up in.
 */
export function admitPodSpec(spec: any): void {
    spec.serviceAccountName ||= spec.serviceAccount || "default";
    spec.serviceAccount = spec.serviceAccountName;
    spec.priority ??= SYSTEM_PRIORITIES[spec.priorityClassName] ?? 0;
    spec.preemptionPolicy ??= "PreemptLowerPriority";
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
            admitPodSpec(obj.spec);
            addDefaultTolerations(obj.spec);
            // PrepareForCreate: status is reset
            obj.status = { phase: "Pending", qosClass: qosClass(obj.spec) };
            break;
        case "deployments":
            obj.spec ??= {};
            obj.spec.replicas ??= 1;
            obj.spec.revisionHistoryLimit ??= 10;
            obj.spec.progressDeadlineSeconds ??= 600;
            obj.spec.strategy ??= {};
            obj.spec.strategy.type ||= "RollingUpdate";
            if (obj.spec.strategy.type === "RollingUpdate") {
                obj.spec.strategy.rollingUpdate ??= {};
                obj.spec.strategy.rollingUpdate.maxUnavailable ??= "25%";
                obj.spec.strategy.rollingUpdate.maxSurge ??= "25%";
            }
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
