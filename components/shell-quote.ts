// Passing values to shell commands without pasting them into the script. Node names, versions and user
// variables only ever reach a command as environment variables, set by an `env NAME='value' ...` prefix
// (sshd often refuses Setenv, and pulumi-command#395 made that a hard error, so `environment` is not used).

/** Quotes any string for POSIX sh: wraps it in single quotes, each ' becoming '\'' (the only special case). */
export function shellQuote(value: string): string {
    if (typeof value !== "string") throw new TypeError(`shellQuote expects a string, got ${typeof value}`);
    // A NUL byte cannot be part of an argument or an environment variable: refuse rather than truncate.
    if (value.includes("\0")) throw new Error("shellQuote: the value contains a NUL byte");
    return "'" + value.replace(/'/g, "'\\''") + "'";
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why `name` is not a usable environment variable name, or undefined when it is. */
export function envNameProblem(name: string): string | undefined {
    return ENV_NAME.test(name)
        ? undefined
        : `"${name}" is not a valid environment variable name (letters, digits and _, not starting with a digit)`;
}

/** `env A='1' B='2'` for the given variables (in the given order). Throws on a bad name. */
export function envPrefix(vars: Record<string, string>): string {
    const parts = ["env"];
    for (const [name, value] of Object.entries(vars)) {
        const problem = envNameProblem(name);
        if (problem) throw new Error(problem);
        parts.push(`${name}=${shellQuote(String(value))}`);
    }
    return parts.join(" ");
}

/**
 * A command line that runs `script` with `sh -c` and the variables in its environment. `env` works from any
 * login shell (sh, bash, zsh, fish, csh), and `sh -c` gives the script POSIX semantics whatever that shell is,
 * so "$NODE_NAME" inside the script expands to the value set here.
 */
export function commandWithEnv(
    vars: Record<string, string>,
    script: string,
    limit: { timeoutSeconds?: number; what?: string } = {},
): string {
    if (!limit.timeoutSeconds) return `${envPrefix(vars)} sh -c ${shellQuote(script)}`;
    return `${envPrefix(vars)} sh -c ${shellQuote(timeLimitWrapper(limit.timeoutSeconds, limit.what ?? "the time limit"))} ${shellQuote(script)}`;
}

/** Seconds between the TERM that `timeout` sends and the KILL that follows if the script is still running. */
export const KILL_AFTER_SECONDS = 30;

/**
 * A POSIX sh script that runs its first argument ($0) as a script under `timeout`, and says so when the limit
 * stopped it (timeout's exit status 124; 137 after the KILL). `timeout` signals the script's whole process group,
 * so children (apt, sleep) stop too. The values are numbers we formatted, never user text.
 */
function timeLimitWrapper(seconds: number, what: string): string {
    const n = Math.max(1, Math.ceil(seconds));
    return [
        `command -v timeout >/dev/null 2>&1 || { echo "node-upgrade: ${what} needs the timeout command (coreutils or busybox) on the node" >&2; exit 127; }`,
        `timeout -k ${KILL_AFTER_SECONDS} ${n} sh -c "$0"`,
        `rc=$?`,
        `if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then echo "node-upgrade: the command ran longer than ${what} (${n}s) and was stopped" >&2; fi`,
        `exit "$rc"`,
    ].join("; ");
}
