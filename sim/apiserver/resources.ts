// The table of resources the simulated API server serves. Discovery, routing,
// error messages and tables are all derived from it.

export interface ResourceInfo {
    group: string; // "" for the core group
    version: string;
    kind: string;
    plural: string; // also the store key ("pods", "deployments", ...)
    singular: string;
    namespaced: boolean;
    shortNames?: string[];
    categories?: string[];
    /** subresources served, e.g. status, scale, eviction, binding */
    subresources: string[];
    /** metadata.generation is maintained and bumped on spec changes */
    hasGeneration: boolean;
    /** the main resource ignores status changes (a status subresource exists) */
    hasStatus: boolean;
    /** verbs served (default: all eight); reviews serve only create and are never stored */
    verbs?: string[];
}

const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

export const RESOURCES: ResourceInfo[] = [
    {
        group: "",
        version: "v1",
        kind: "Namespace",
        plural: "namespaces",
        singular: "namespace",
        namespaced: false,
        shortNames: ["ns"],
        subresources: ["status", "finalize"],
        hasGeneration: false,
        hasStatus: true,
    },
    {
        group: "",
        version: "v1",
        kind: "Node",
        plural: "nodes",
        singular: "node",
        namespaced: false,
        shortNames: ["no"],
        subresources: ["status"],
        hasGeneration: false,
        hasStatus: true,
    },
    {
        group: "",
        version: "v1",
        kind: "Pod",
        plural: "pods",
        singular: "pod",
        namespaced: true,
        shortNames: ["po"],
        categories: ["all"],
        subresources: ["status", "eviction", "binding"],
        hasGeneration: true,
        hasStatus: true,
    },
    {
        group: "",
        version: "v1",
        kind: "Event",
        plural: "events",
        singular: "event",
        namespaced: true,
        shortNames: ["ev"],
        subresources: [],
        hasGeneration: false,
        hasStatus: false,
    },
    {
        group: "",
        version: "v1",
        kind: "ServiceAccount",
        plural: "serviceaccounts",
        singular: "serviceaccount",
        namespaced: true,
        shortNames: ["sa"],
        subresources: ["token"],
        hasGeneration: false,
        hasStatus: false,
    },
    {
        group: "apps",
        version: "v1",
        kind: "Deployment",
        plural: "deployments",
        singular: "deployment",
        namespaced: true,
        shortNames: ["deploy"],
        categories: ["all"],
        subresources: ["status", "scale"],
        hasGeneration: true,
        hasStatus: true,
    },
    {
        group: "apps",
        version: "v1",
        kind: "ReplicaSet",
        plural: "replicasets",
        singular: "replicaset",
        namespaced: true,
        shortNames: ["rs"],
        categories: ["all"],
        subresources: ["status", "scale"],
        hasGeneration: true,
        hasStatus: true,
    },
    {
        group: "apps",
        version: "v1",
        kind: "DaemonSet",
        plural: "daemonsets",
        singular: "daemonset",
        namespaced: true,
        shortNames: ["ds"],
        categories: ["all"],
        subresources: ["status"],
        hasGeneration: true,
        hasStatus: true,
    },
    {
        group: "apps",
        version: "v1",
        kind: "StatefulSet",
        plural: "statefulsets",
        singular: "statefulset",
        namespaced: true,
        shortNames: ["sts"],
        categories: ["all"],
        subresources: ["status", "scale"],
        hasGeneration: true,
        hasStatus: true,
    },
    {
        group: "policy",
        version: "v1",
        kind: "PodDisruptionBudget",
        plural: "poddisruptionbudgets",
        singular: "poddisruptionbudget",
        namespaced: true,
        shortNames: ["pdb"],
        subresources: ["status"],
        hasGeneration: true,
        hasStatus: true,
    },
    {
        group: "coordination.k8s.io",
        version: "v1",
        kind: "Lease",
        plural: "leases",
        singular: "lease",
        namespaced: true,
        subresources: [],
        hasGeneration: false,
        hasStatus: false,
    },
    {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "ClusterRole",
        plural: "clusterroles",
        singular: "clusterrole",
        namespaced: false,
        subresources: [],
        hasGeneration: false,
        hasStatus: false,
    },
    {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "ClusterRoleBinding",
        plural: "clusterrolebindings",
        singular: "clusterrolebinding",
        namespaced: false,
        subresources: [],
        hasGeneration: false,
        hasStatus: false,
    },
    {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "Role",
        plural: "roles",
        singular: "role",
        namespaced: true,
        subresources: [],
        hasGeneration: false,
        hasStatus: false,
    },
    {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "RoleBinding",
        plural: "rolebindings",
        singular: "rolebinding",
        namespaced: true,
        subresources: [],
        hasGeneration: false,
        hasStatus: false,
    },
    {
        group: "authorization.k8s.io",
        version: "v1",
        kind: "SelfSubjectAccessReview",
        plural: "selfsubjectaccessreviews",
        singular: "selfsubjectaccessreview",
        namespaced: false,
        subresources: [],
        hasGeneration: false,
        hasStatus: false,
        verbs: ["create"],
    },
    {
        group: "authorization.k8s.io",
        version: "v1",
        kind: "SelfSubjectRulesReview",
        plural: "selfsubjectrulesreviews",
        singular: "selfsubjectrulesreview",
        namespaced: false,
        subresources: [],
        hasGeneration: false,
        hasStatus: false,
        verbs: ["create"],
    },
    {
        group: "authentication.k8s.io",
        version: "v1",
        kind: "SelfSubjectReview",
        plural: "selfsubjectreviews",
        singular: "selfsubjectreview",
        namespaced: false,
        subresources: [],
        hasGeneration: false,
        hasStatus: false,
        verbs: ["create"],
    },
];

const byPlural = new Map(RESOURCES.map((r) => [r.plural, r]));

export function resourceByPlural(plural: string): ResourceInfo | undefined {
    return byPlural.get(plural);
}

/** Find a resource by plural, singular, kind or short name (case-insensitive). */
export function resolveResource(nameOrKind: string): ResourceInfo | undefined {
    const n = nameOrKind.toLowerCase();
    return RESOURCES.find((r) => r.plural === n || r.singular === n || r.kind.toLowerCase() === n || (r.shortNames ?? []).includes(n));
}

export function resourceForKind(apiVersion: string | undefined, kind: string): ResourceInfo | undefined {
    const group = apiVersion && apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
    return RESOURCES.find((r) => r.kind === kind && (apiVersion === undefined || r.group === group));
}

export function apiVersionOf(r: ResourceInfo): string {
    return r.group ? `${r.group}/${r.version}` : r.version;
}

/** "pods" or "deployments.apps": how error messages name a resource. */
export function groupResource(r: ResourceInfo): string {
    return r.group ? `${r.plural}.${r.group}` : r.plural;
}

/** "Pod" or "Deployment.apps": how precondition/validation messages name a kind. */
export function groupKind(r: ResourceInfo): string {
    return r.group ? `${r.kind}.${r.group}` : r.kind;
}

export function resourcesInGroupVersion(group: string, version: string): ResourceInfo[] {
    return RESOURCES.filter((r) => r.group === group && r.version === version);
}

export function verbsFor(r: ResourceInfo): string[] {
    return r.verbs ?? VERBS;
}
