// Field numbers of the Kubernetes protobuf messages the simulator decodes (from k8s.io/api and
// k8s.io/apimachinery generated.proto), for the kinds kubectl's typed clients send: `kubectl create
// namespace|deployment|poddisruptionbudget|serviceaccount|clusterrole|clusterrolebinding|role|rolebinding`,
// `kubectl create token`, `kubectl auth can-i`, `kubectl delete`, `kubectl drain`.
//
// A field is [jsonName, type, flags]: "ptr" marks Go pointer fields, which keep their zero value (replicas: 0);
// other zero values are dropped, as JSON's omitempty does (gogo protobuf writes every non-pointer field).
// "inline" merges an embedded struct into its parent (VolumeSource in Volume). Status parts are "skip": the
// server resets status on create.

export type FieldType = "string" | "int" | "bool" | "time" | "quantity" | "intOrString" | "skip" | Message | Repeated | MapOf;
export type Message = { [field: number]: FieldDef };
export interface Repeated {
    repeated: FieldType;
}
export interface MapOf {
    map: FieldType;
}
export type FieldDef = [name: string, type: FieldType, flag?: "ptr" | "inline"];

const R = (t: FieldType): Repeated => ({ repeated: t });
const M = (t: FieldType): MapOf => ({ map: t });

const OwnerReference: Message = {
    1: ["kind", "string"],
    3: ["name", "string"],
    4: ["uid", "string"],
    5: ["apiVersion", "string"],
    6: ["controller", "bool", "ptr"],
    7: ["blockOwnerDeletion", "bool", "ptr"],
};

export const ObjectMeta: Message = {
    1: ["name", "string"],
    2: ["generateName", "string"],
    3: ["namespace", "string"],
    4: ["selfLink", "string"],
    5: ["uid", "string"],
    6: ["resourceVersion", "string"],
    7: ["generation", "int"],
    8: ["creationTimestamp", "time"],
    9: ["deletionTimestamp", "time", "ptr"],
    10: ["deletionGracePeriodSeconds", "int", "ptr"],
    11: ["labels", M("string")],
    12: ["annotations", M("string")],
    13: ["ownerReferences", R(OwnerReference)],
    14: ["finalizers", R("string")],
    17: ["managedFields", "skip"],
};

const LabelSelector: Message = {
    1: ["matchLabels", M("string")],
    2: ["matchExpressions", R({ 1: ["key", "string"], 2: ["operator", "string"], 3: ["values", R("string")] })],
};

const LocalObjectReference: Message = { 1: ["name", "string"] };
const KeyToPath: Message = { 1: ["key", "string"], 2: ["path", "string"], 3: ["mode", "int", "ptr"] };

const VolumeSource: Message = {
    1: ["hostPath", { 1: ["path", "string"], 2: ["type", "string", "ptr"] }, "ptr"],
    2: ["emptyDir", { 1: ["medium", "string"], 2: ["sizeLimit", "quantity", "ptr"] }, "ptr"],
    6: [
        "secret",
        { 1: ["secretName", "string"], 2: ["items", R(KeyToPath)], 3: ["defaultMode", "int", "ptr"], 4: ["optional", "bool", "ptr"] },
        "ptr",
    ],
    10: ["persistentVolumeClaim", { 1: ["claimName", "string"], 2: ["readOnly", "bool"] }, "ptr"],
    19: [
        "configMap",
        {
            1: ["", LocalObjectReference, "inline"],
            2: ["items", R(KeyToPath)],
            3: ["defaultMode", "int", "ptr"],
            4: ["optional", "bool", "ptr"],
        },
        "ptr",
    ],
};

const KeySelector: Message = { 1: ["", LocalObjectReference, "inline"], 2: ["key", "string"], 3: ["optional", "bool", "ptr"] };

const EnvVar: Message = {
    1: ["name", "string"],
    2: ["value", "string"],
    3: [
        "valueFrom",
        {
            1: ["fieldRef", { 1: ["apiVersion", "string"], 2: ["fieldPath", "string"] }, "ptr"],
            3: ["configMapKeyRef", KeySelector, "ptr"],
            4: ["secretKeyRef", KeySelector, "ptr"],
        },
        "ptr",
    ],
};

const Container: Message = {
    1: ["name", "string"],
    2: ["image", "string"],
    3: ["command", R("string")],
    4: ["args", R("string")],
    5: ["workingDir", "string"],
    6: [
        "ports",
        R({
            1: ["name", "string"],
            2: ["hostPort", "int"],
            3: ["containerPort", "int"],
            4: ["protocol", "string"],
            5: ["hostIP", "string"],
        }),
    ],
    7: ["env", R(EnvVar)],
    8: ["resources", { 1: ["limits", M("quantity")], 2: ["requests", M("quantity")] }],
    9: ["volumeMounts", R({ 1: ["name", "string"], 2: ["readOnly", "bool"], 3: ["mountPath", "string"], 4: ["subPath", "string"] })],
    13: ["terminationMessagePath", "string"],
    14: ["imagePullPolicy", "string"],
    16: ["stdin", "bool"],
    17: ["stdinOnce", "bool"],
    18: ["tty", "bool"],
    20: ["terminationMessagePolicy", "string"],
    24: ["restartPolicy", "string", "ptr"],
};

const Toleration: Message = {
    1: ["key", "string"],
    2: ["operator", "string"],
    3: ["value", "string"],
    4: ["effect", "string"],
    5: ["tolerationSeconds", "int", "ptr"],
};

const PodSpec: Message = {
    1: ["volumes", R({ 1: ["name", "string"], 2: ["", VolumeSource, "inline"] })],
    2: ["containers", R(Container)],
    3: ["restartPolicy", "string"],
    4: ["terminationGracePeriodSeconds", "int", "ptr"],
    5: ["activeDeadlineSeconds", "int", "ptr"],
    6: ["dnsPolicy", "string"],
    7: ["nodeSelector", M("string")],
    8: ["serviceAccountName", "string"],
    9: ["serviceAccount", "string"],
    10: ["nodeName", "string"],
    11: ["hostNetwork", "bool"],
    12: ["hostPID", "bool"],
    13: ["hostIPC", "bool"],
    15: ["imagePullSecrets", R(LocalObjectReference)],
    16: ["hostname", "string"],
    17: ["subdomain", "string"],
    19: ["schedulerName", "string"],
    20: ["initContainers", R(Container)],
    21: ["automountServiceAccountToken", "bool", "ptr"],
    22: ["tolerations", R(Toleration)],
    24: ["priorityClassName", "string"],
    25: ["priority", "int", "ptr"],
    29: ["runtimeClassName", "string", "ptr"],
    30: ["enableServiceLinks", "bool", "ptr"],
    31: ["preemptionPolicy", "string", "ptr"],
};

const PodTemplateSpec: Message = { 1: ["metadata", ObjectMeta], 2: ["spec", PodSpec] };

const PolicyRule: Message = {
    1: ["verbs", R("string")],
    2: ["apiGroups", R("string")],
    3: ["resources", R("string")],
    4: ["resourceNames", R("string")],
    5: ["nonResourceURLs", R("string")],
};

const Binding: Message = {
    1: ["metadata", ObjectMeta],
    2: ["subjects", R({ 1: ["kind", "string"], 2: ["apiGroup", "string"], 3: ["name", "string"], 4: ["namespace", "string"] })],
    3: ["roleRef", { 1: ["apiGroup", "string"], 2: ["kind", "string"], 3: ["name", "string"] }],
};

export const DeleteOptions: Message = {
    1: ["gracePeriodSeconds", "int", "ptr"],
    2: ["preconditions", { 1: ["uid", "string", "ptr"], 2: ["resourceVersion", "string", "ptr"] }, "ptr"],
    3: ["orphanDependents", "bool", "ptr"],
    4: ["propagationPolicy", "string", "ptr"],
    5: ["dryRun", R("string")],
    6: ["ignoreStoreReadErrorWithClusterBreakingPotential", "bool", "ptr"],
};

/** Top-level messages by "apiVersion/kind" (the runtime.Unknown envelope's TypeMeta). */
export const KINDS: Record<string, Message> = {
    "v1/Namespace": { 1: ["metadata", ObjectMeta], 2: ["spec", { 1: ["finalizers", R("string")] }], 3: ["status", "skip"] },
    "v1/ServiceAccount": {
        1: ["metadata", ObjectMeta],
        2: ["secrets", R({ 1: ["kind", "string"], 2: ["namespace", "string"], 3: ["name", "string"], 4: ["uid", "string"] })],
        3: ["imagePullSecrets", R(LocalObjectReference)],
        4: ["automountServiceAccountToken", "bool", "ptr"],
    },
    "v1/Pod": { 1: ["metadata", ObjectMeta], 2: ["spec", PodSpec], 3: ["status", "skip"] },
    "apps/v1/Deployment": {
        1: ["metadata", ObjectMeta],
        2: [
            "spec",
            {
                1: ["replicas", "int", "ptr"],
                2: ["selector", LabelSelector, "ptr"],
                3: ["template", PodTemplateSpec],
                4: [
                    "strategy",
                    {
                        1: ["type", "string"],
                        2: ["rollingUpdate", { 1: ["maxUnavailable", "intOrString", "ptr"], 2: ["maxSurge", "intOrString", "ptr"] }, "ptr"],
                    },
                ],
                5: ["minReadySeconds", "int"],
                6: ["revisionHistoryLimit", "int", "ptr"],
                7: ["paused", "bool"],
                9: ["progressDeadlineSeconds", "int", "ptr"],
            },
        ],
        3: ["status", "skip"],
    },
    "policy/v1/PodDisruptionBudget": {
        1: ["metadata", ObjectMeta],
        2: [
            "spec",
            {
                1: ["minAvailable", "intOrString", "ptr"],
                2: ["selector", LabelSelector, "ptr"],
                3: ["maxUnavailable", "intOrString", "ptr"],
                4: ["unhealthyPodEvictionPolicy", "string", "ptr"],
            },
        ],
        3: ["status", "skip"],
    },
    "policy/v1/Eviction": { 1: ["metadata", ObjectMeta], 2: ["deleteOptions", DeleteOptions, "ptr"] },
    "v1/DeleteOptions": DeleteOptions,
    "meta.k8s.io/v1/DeleteOptions": DeleteOptions,
    "rbac.authorization.k8s.io/v1/ClusterRole": {
        1: ["metadata", ObjectMeta],
        2: ["rules", R(PolicyRule)],
        3: ["aggregationRule", { 1: ["clusterRoleSelectors", R(LabelSelector)] }, "ptr"],
    },
    "rbac.authorization.k8s.io/v1/Role": { 1: ["metadata", ObjectMeta], 2: ["rules", R(PolicyRule)] },
    "rbac.authorization.k8s.io/v1/ClusterRoleBinding": Binding,
    "rbac.authorization.k8s.io/v1/RoleBinding": Binding,
    "authorization.k8s.io/v1/SelfSubjectAccessReview": {
        1: ["metadata", ObjectMeta],
        2: [
            "spec",
            {
                1: [
                    "resourceAttributes",
                    {
                        1: ["namespace", "string"],
                        2: ["verb", "string"],
                        3: ["group", "string"],
                        4: ["version", "string"],
                        5: ["resource", "string"],
                        6: ["subresource", "string"],
                        7: ["name", "string"],
                    },
                    "ptr",
                ],
                2: ["nonResourceAttributes", { 1: ["path", "string"], 2: ["verb", "string"] }, "ptr"],
            },
        ],
        3: ["status", "skip"],
    },
    "authorization.k8s.io/v1/SelfSubjectRulesReview": {
        1: ["metadata", ObjectMeta],
        2: ["spec", { 1: ["namespace", "string"] }],
        3: ["status", "skip"],
    },
    "authentication.k8s.io/v1/SelfSubjectReview": { 1: ["metadata", ObjectMeta], 2: ["status", "skip"] },
    "authentication.k8s.io/v1/TokenRequest": {
        1: ["metadata", ObjectMeta],
        2: [
            "spec",
            {
                1: ["audiences", R("string")],
                3: [
                    "boundObjectRef",
                    { 1: ["kind", "string"], 2: ["apiVersion", "string"], 3: ["name", "string"], 4: ["uid", "string"] },
                    "ptr",
                ],
                4: ["expirationSeconds", "int", "ptr"],
            },
        ],
        3: ["status", "skip"],
    },
};
