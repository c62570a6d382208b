// Boolean query parameters (watch, allowWatchBookmarks, sendInitialEvents, orphanDependents, force,
// ignoreStoreReadErrorWithClusterBreakingPotential), read the way kube-apiserver's parameter codec does
// (k8s.io/apimachinery/pkg/runtime/conversion.go Convert_Slice_string_To_bool): only "0" and "false" in any
// letter case are false; any other value, even "" or "yes", is true. So `watch=True` (the Python client) is a
// watch, and no value is ever rejected. Absent → undefined, so pointer fields (sendInitialEvents) stay unset.

export function queryBool(q: URLSearchParams, name: string): boolean | undefined {
    const v = q.getAll(name);
    if (v.length === 0) return undefined;
    return !(v[0] === "0" || v[0].toLowerCase() === "false");
}
