// Kubernetes versions: what a target version may look like, and whether a kubelet runs it. One rule for the
// drain engine (the Ready wait), the planner (who is already at the target), the components and the CLI.
import * as semver from "semver";

/** Why `version` is not a usable target version ("v1.29.3"), or undefined when it is. */
export function targetVersionProblem(version: unknown): string | undefined {
    if (typeof version !== "string" || version.trim() === "") return "a target version is required";
    const bare = version.trim().replace(/^v/i, "");
    if (bare !== version.replace(/^v/i, "") || !/^\d/.test(bare) || !semver.valid(bare)) {
        return `target version ${JSON.stringify(version)} is not a semantic version like v1.29.3 (major.minor.patch)`;
    }
    return undefined;
}

/** A version as kubelets and API servers report it ("v1.29.3", "v1.29.3+k3s1", "1.29.3-eks-1a2b"), or null. */
export function parseKubeVersion(text: string | undefined): semver.SemVer | null {
    if (!text) return null;
    return semver.parse(semver.clean(text, { loose: true }) ?? "", { loose: true });
}

/** "v1.29.3" for any accepted form; the text itself when it does not parse. */
export function displayVersion(text: string | undefined): string | undefined {
    if (!text) return undefined;
    const v = parseKubeVersion(text);
    return v ? `v${v.major}.${v.minor}.${v.patch}${v.prerelease.length ? `-${v.prerelease.join(".")}` : ""}` : text;
}

/**
 * Whether a kubelet at `actual` runs `target`. "v1.20.0" equals "1.20.0"; a target without a pre-release part
 * matches any distribution build of that patch release ("v1.20.0+k3s1", "v1.20.0-eks-1a2b"); a target with a
 * pre-release part must match exactly ("v1.30.0-rc.1" is not "v1.30.0").
 */
export function versionSatisfiesTarget(actual: string | undefined, target: string | undefined): boolean {
    if (!actual || !target) return false;
    const a = parseKubeVersion(actual);
    const t = parseKubeVersion(target);
    if (!a || !t) return actual.replace(/^v/, "") === target.replace(/^v/, "");
    if (t.prerelease.length) return semver.eq(a, t) && a.prerelease.join(".") === t.prerelease.join(".");
    return a.major === t.major && a.minor === t.minor && a.patch === t.patch;
}
