// A model of @pulumi/command v1.2.1's `command:remote:Command` provider: its diff, Create/Update/Delete
// (provider/pkg/provider/remote/commandController.go) and how a command runs (commandOutputs.go), over real
// SSH (ssh-session.ts) or, for the demo that has no sshd, with `sh -c` on this machine.
//
// Not modelled: preview (DryRun returns before running), the resource ID, partial state on failure, the
// request context (cancellation), `proxy`, and Go's random order of `environment` entries (insertion order
// here). As in 1.2.1, nothing bounds how long the command runs: customTimeouts reach only the dial.

import { spawn } from "node:child_process";
import { goQuote } from "./go-quote";
import { CommandSession, ConnectionInputs, Log, LogSeverity, dialSsh, waitError } from "./ssh-session";

export type { ConnectionInputs, LogSeverity, ProxyConnectionInputs } from "./ssh-session";

/** remote/logging.go. */
export type Logging = "stdout" | "stderr" | "stdoutAndStderr" | "none";

/** command.go CommandInputs with common/inputs.go ResourceInputs. */
export interface CommandInputs {
    connection: ConnectionInputs;
    create?: string;
    update?: string;
    delete?: string;
    environment?: Record<string, string>;
    stdin?: string;
    triggers?: unknown[];
    addPreviousOutputInEnv?: boolean;
    logging?: Logging;
}

/** command.go CommandOutputs: the inputs plus baseOutputs.go. */
export interface CommandState extends CommandInputs {
    stdout: string;
    stderr: string;
}

// util/util.go.
export const PULUMI_COMMAND_STDOUT = "PULUMI_COMMAND_STDOUT";
export const PULUMI_COMMAND_STDERR = "PULUMI_COMMAND_STDERR";

// ---- diff ----------------------------------------------------------------------------------------------------

export interface CommandDiff {
    changes: boolean;
    replace: boolean;
    /** Top-level input keys that changed, sorted. */
    changedKeys: string[];
    /** The detailed-diff paths, as the provider reports them ("connection.host", "triggers[0]"), sorted. */
    paths: string[];
}

const isNull = (v: unknown) => v === undefined || v === null;

function pathKey(prefix: string, key: string | number): string {
    if (typeof key === "number") {
        return `${prefix}[${key}]`;
    }
    if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) {
        return prefix === "" ? key : `${prefix}.${key}`;
    }
    return `${prefix}[${JSON.stringify(key)}]`;
}

// pulumi sdk resource/properties_diff.go: objects diff by key, where a null or missing value has no value;
// arrays diff by index; anything else (or a type change) is compared whole.
function diffValue(path: string, a: unknown, b: unknown, out: string[]): void {
    if (Array.isArray(a) && Array.isArray(b)) {
        for (let i = 0; i < Math.max(a.length, b.length); i++) {
            if (i >= a.length || i >= b.length) {
                out.push(pathKey(path, i));
            } else {
                diffValue(pathKey(path, i), a[i], b[i], out);
            }
        }
        return;
    }
    const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
    if (isObject(a) && isObject(b)) {
        diffObject(path, a as Record<string, unknown>, b as Record<string, unknown>, out);
        return;
    }
    if (!(a === b || (isNull(a) && isNull(b)))) {
        out.push(path);
    }
}

function diffObject(path: string, a: Record<string, unknown>, b: Record<string, unknown>, out: string[]): void {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (isNull(a[key]) && isNull(b[key])) {
            continue;
        }
        if (isNull(a[key]) || isNull(b[key])) {
            out.push(pathKey(path, key));
        } else {
            diffValue(pathKey(path, key), a[key], b[key], out);
        }
    }
}

/**
 * pulumi-go-provider v1.3.0 infer's default diff (infer/resource.go diff): old inputs against new inputs,
 * every key, `connection` included. A change in `triggers` is a replace: the provider marks one when the
 * whole `triggers` key is added or removed (its `provider:"replaceOnChanges"` tag, common/inputs.go), and the
 * SDK's `replaceOnChanges: ["triggers[*]"]` (remote/command.js) makes the engine replace for element changes.
 */
export function diffCommand(oldInputs: Partial<CommandInputs>, newInputs: Partial<CommandInputs>): CommandDiff {
    const strip = (o: Partial<CommandInputs>) =>
        // infer drops "version" and "__"-prefixed keys from the new inputs; the state's outputs are not inputs.
        Object.fromEntries(Object.entries(o).filter(([k]) => k !== "version" && !k.startsWith("__") && k !== "stdout" && k !== "stderr"));
    const paths: string[] = [];
    diffObject("", strip(oldInputs), strip(newInputs), paths);
    paths.sort();
    const changedKeys = [...new Set(paths.map((p) => /^[^.[]*/.exec(p)![0]))].sort();
    return { changes: paths.length > 0, replace: changedKeys.includes("triggers"), changedKeys, paths };
}

// ---- provider ------------------------------------------------------------------------------------------------

export interface RemoteCommandProviderOptions {
    /** "ssh" dials `connection`; "local" ignores it and runs `sh -c` here (for the demo, which has no sshd). */
    transport: "ssh" | "local";
    localCwd?: string;
    /** The local transport's base environment (default: this process's). */
    localEnv?: NodeJS.ProcessEnv;
    /** Each line of the command's output, as the provider logs it (util.LogOutput, InfoStatus). */
    onOutput?: (name: string, line: string) => void;
    /** The provider's other log messages: dial retries, the setenv warnings and errors. */
    onLog?: (name: string, severity: LogSeverity, message: string) => void;
}

function trimNewline(s: string): string {
    return s.endsWith("\n") ? s.slice(0, -1) : s;
}

/** util.LogOutput: bufio.Scanner lines (a trailing "\r" dropped, a last unterminated line kept). */
class LineLogger {
    private pending = Buffer.alloc(0);

    constructor(private readonly emit: (line: string) => void) {}

    write(chunk: Buffer): void {
        let buf = Buffer.concat([this.pending, chunk]);
        for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a)) {
            this.line(buf.subarray(0, nl));
            buf = buf.subarray(nl + 1);
        }
        this.pending = buf;
    }

    end(): void {
        if (this.pending.length > 0) {
            this.line(this.pending);
        }
        this.pending = Buffer.alloc(0);
    }

    private line(bytes: Buffer): void {
        const text = bytes.toString("utf8");
        this.emit(text.endsWith("\r") ? text.slice(0, -1) : text);
    }
}

/** The local transport: a session that is `sh -c` on this machine. Every setenv is accepted. */
class LocalSession implements CommandSession {
    private readonly env: Record<string, string> = {};

    constructor(
        private readonly cwd: string | undefined,
        private readonly baseEnv: NodeJS.ProcessEnv,
    ) {}

    async setenv(key: string, value: string): Promise<void> {
        this.env[key] = value;
    }

    run(cmd: string, stdin: string | undefined, output: (stream: "stdout" | "stderr", chunk: Buffer) => void): Promise<void> {
        return new Promise((resolve, reject) => {
            const child = spawn("sh", ["-c", cmd], { cwd: this.cwd, env: { ...this.baseEnv, ...this.env }, stdio: "pipe" });
            child.stdout.on("data", (chunk: Buffer) => output("stdout", chunk));
            child.stderr.on("data", (chunk: Buffer) => output("stderr", chunk));
            child.stdin.on("error", () => undefined); // EPIPE when the command does not read its stdin
            child.stdin.end(stdin ?? "");
            child.on("error", reject);
            child.on("close", (code, signal) => {
                // The same text sshd's exit-status / exit-signal would give (ssh-session.ts waitError).
                const text = waitError(code ?? undefined, signal ? signal.replace(/^SIG/, "") : undefined);
                if (text === undefined) {
                    resolve();
                } else {
                    reject(new Error(text));
                }
            });
        });
    }

    close(): void {
        // Nothing to release: the process has exited when run() settles.
    }
}

function shouldLogStdout(l: Logging | undefined): boolean {
    return l == null || l === "stdout" || l === "stdoutAndStderr"; // logging.go ShouldLogStdout
}

function shouldLogStderr(l: Logging | undefined): boolean {
    return l == null || l === "stderr" || l === "stdoutAndStderr"; // logging.go ShouldLogStderr
}

export class RemoteCommandProvider {
    constructor(private readonly opts: RemoteCommandProviderOptions) {}

    /** commandController.go Create: no `create` means nothing runs, and the outputs are empty. */
    async create(name: string, inputs: CommandInputs): Promise<CommandState> {
        const state: CommandState = { ...inputs, stdout: "", stderr: "" };
        if (inputs.create == null) {
            return state;
        }
        await this.run(name, state, inputs.create, inputs.logging);
        return state;
    }

    /**
     * commandController.go Update: the new inputs with the old outputs; runs `update` when set (even ""),
     * else `create` when set, else nothing. A run replaces the outputs.
     */
    async update(name: string, oldState: CommandState, newInputs: CommandInputs): Promise<CommandState> {
        const state: CommandState = { ...newInputs, stdout: oldState.stdout ?? "", stderr: oldState.stderr ?? "" };
        if (newInputs.update != null) {
            await this.run(name, state, newInputs.update, newInputs.logging);
        } else if (newInputs.create != null) {
            await this.run(name, state, newInputs.create, newInputs.logging);
        }
        return state;
    }

    /** commandController.go Delete: runs `delete` when set, with the state's outputs in the environment. */
    async delete(name: string, state: CommandState): Promise<void> {
        if (state.delete == null) {
            return;
        }
        await this.run(name, { ...state, stdout: state.stdout ?? "", stderr: state.stderr ?? "" }, state.delete, state.logging);
    }

    private log(name: string): Log {
        return (severity, message) => this.opts.onLog?.(name, severity, message);
    }

    private async open(name: string, connection: ConnectionInputs): Promise<CommandSession & { closeAll(): void }> {
        if (this.opts.transport === "local") {
            const session = new LocalSession(this.opts.localCwd, this.opts.localEnv ?? process.env);
            return Object.assign(session, { closeAll: () => session.close() });
        }
        const client = await dialSsh(connection, this.log(name));
        try {
            const session = await client.newSession();
            return Object.assign(session, {
                closeAll: () => {
                    session.close();
                    client.close();
                },
            });
        } catch (err) {
            client.close();
            throw err;
        }
    }

    /** commandOutputs.go logAndWrapSetenvErr: logs the hint at `severity`, returns the wrapped error. */
    private setenvError(name: string, severity: LogSeverity, key: string, err: Error): Error {
        this.log(name)(
            severity,
            `Unable to set '${key}'. This only works if your SSH server is configured to accept\n` +
                "\tthese variables via AcceptEnv. Alternatively, if a Bash-like shell runs the command on the remote host, you could\n" +
                "\tprefix the command itself with the variables in the form 'VAR=value command'",
        );
        return Object.assign(new Error(`could not set environment variable ${goQuote(key)}: ${err.message}`), { cause: err });
    }

    /** commandOutputs.go CommandOutputs.run. Sets state.stdout/stderr on success. */
    private async run(name: string, state: CommandState, cmd: string, logging: Logging | undefined): Promise<void> {
        const session = await this.open(name, state.connection);
        try {
            if (state.environment != null) {
                for (const [key, value] of Object.entries(state.environment)) {
                    try {
                        await session.setenv(key, value);
                    } catch (err) {
                        throw this.setenvError(name, "error", key, err as Error);
                    }
                }
            }
            if (state.addPreviousOutputInEnv == null || state.addPreviousOutputInEnv) {
                // Best effort: a refusal is only a warning.
                for (const [key, value] of [
                    [PULUMI_COMMAND_STDOUT, state.stdout],
                    [PULUMI_COMMAND_STDERR, state.stderr],
                ]) {
                    if (value !== "") {
                        await session.setenv(key, value).catch((err: Error) => this.setenvError(name, "warning", key, err));
                    }
                }
            }
            const stdin = state.stdin != null && state.stdin.length > 0 ? state.stdin : undefined;

            // Go tees stdout and stderr each into its own buffer and one shared buffer (arrival order), and
            // the logged streams into one pipe that is split into lines.
            const stdout: Buffer[] = [];
            const stderr: Buffer[] = [];
            const both: Buffer[] = [];
            const logger = new LineLogger((line) => this.opts.onOutput?.(name, line));
            const logOut = shouldLogStdout(logging);
            const logErr = shouldLogStderr(logging);
            let error: Error | undefined;
            try {
                await session.run(cmd, stdin, (stream, chunk) => {
                    (stream === "stdout" ? stdout : stderr).push(chunk);
                    both.push(chunk);
                    if (stream === "stdout" ? logOut : logErr) {
                        logger.write(chunk);
                    }
                });
            } catch (err) {
                error = err as Error;
            }
            logger.end();
            if (error) {
                const text = `${error.message}: running ${goQuote(cmd)}:\n${Buffer.concat(both).toString("utf8")}`;
                throw Object.assign(new Error(text), { cause: error });
            }
            state.stdout = trimNewline(Buffer.concat(stdout).toString("utf8"));
            state.stderr = trimNewline(Buffer.concat(stderr).toString("utf8"));
        } finally {
            session.closeAll();
        }
    }
}
