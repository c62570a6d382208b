// A local check command: exit 0 = healthy. Run with child_process.spawn and an argv list, never through a shell,
// so nothing (node name, options) is ever interpolated into a command line; the node's name reaches the command
// as the environment variable NODE_NAME (unset when the check runs before the roll, for no particular node).
import { spawn } from "node:child_process";
import { blocked, formatMs, pass, type Gate, type GateResult } from "../gate";

export interface CheckCommandOptions {
    /** argv: the program (a path, or a name looked up in PATH) and its arguments, e.g. ["/usr/local/bin/db-ok", "--quick"]. */
    command: string[];
    /** Extra environment (on top of ours; NODE_NAME is set by us). */
    env?: Record<string, string>;
    cwd?: string;
    /** Kill the command after this long (it then counts as unhealthy). Default 60 s. */
    timeoutMs?: number;
    /** How many trailing output lines to quote in the reason. Default 10. */
    tailLines?: number;
}

/** What a run of the command produced. */
export interface CommandOutcome {
    exitCode: number | null;
    signal: string | null;
    timedOut: boolean;
    /** The program could not be started (e.g. ENOENT). */
    spawnError?: string;
    /** The last part of stdout and stderr, interleaved as they arrived. */
    output: string;
    durationMs: number;
}

const KEEP_BYTES = 8192;

/** The last `lines` non-empty lines of `text`, at most 1000 characters. */
export function outputTail(text: string, lines = 10): string {
    const tail = text.replace(/\s+$/, "").split(/\r?\n/).slice(-lines).join("\n");
    return tail.length > 1000 ? `…${tail.slice(-1000)}` : tail;
}

export const commandText = (argv: string[]) => argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");

/** Pure: exit 0 → pass; anything else → blocked with the exit status and the output's tail. */
export function evaluateCommand(outcome: CommandOutcome, o: Pick<CheckCommandOptions, "command" | "tailLines" | "timeoutMs">): GateResult {
    const cmd = commandText(o.command);
    const tail = outputTail(outcome.output, o.tailLines ?? 10);
    const withTail = tail ? `; output:\n${tail}` : "";
    if (outcome.spawnError) return blocked(`check command ${cmd} could not be started: ${outcome.spawnError}`);
    if (outcome.timedOut) return blocked(`check command ${cmd} did not finish within ${formatMs(o.timeoutMs ?? 60_000)}${withTail}`);
    if (outcome.exitCode === 0) return pass(`check command ${cmd} succeeded`);
    const status = outcome.exitCode !== null ? `exited with ${outcome.exitCode}` : `was killed by ${outcome.signal}`;
    return blocked(`check command ${cmd} ${status}${withTail}`);
}

/** Runs the command once (no shell). `node` is passed as NODE_NAME. Never throws for the command's own failure. */
export function runCheckCommand(o: CheckCommandOptions, node: string | undefined, signal?: AbortSignal): Promise<CommandOutcome> {
    if (!Array.isArray(o.command) || o.command.length === 0 || !o.command[0])
        return Promise.reject(
            new Error('check command: give the program and its arguments as a list, e.g. ["/usr/local/bin/check", "--quick"]'),
        );
    const started = Date.now();
    const env: NodeJS.ProcessEnv = { ...process.env, ...(o.env ?? {}) };
    if (node) env.NODE_NAME = node;
    else delete env.NODE_NAME;
    return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        let output = "";
        let timedOut = false;
        let spawnError: string | undefined;
        const child = spawn(o.command[0], o.command.slice(1), { env, cwd: o.cwd, shell: false, stdio: ["ignore", "pipe", "pipe"] });
        const keep = (chunk: Buffer) => {
            output += chunk.toString("utf8");
            if (output.length > KEEP_BYTES * 2) output = output.slice(-KEEP_BYTES);
        };
        child.stdout!.on("data", keep);
        child.stderr!.on("data", keep);
        let killTimer: NodeJS.Timeout | undefined;
        const kill = () => {
            child.kill("SIGTERM");
            killTimer = setTimeout(() => child.kill("SIGKILL"), 2000);
            killTimer.unref();
        };
        const timer = setTimeout(() => {
            timedOut = true;
            kill();
        }, o.timeoutMs ?? 60_000);
        const onAbort = () => kill();
        signal?.addEventListener("abort", onAbort, { once: true });
        child.on("error", (err: NodeJS.ErrnoException) => {
            spawnError = err.code === "ENOENT" ? `${o.command[0]}: not found` : err.message;
        });
        child.on("close", (code, sig) => {
            clearTimeout(timer);
            if (killTimer) clearTimeout(killTimer);
            signal?.removeEventListener("abort", onAbort);
            if (signal?.aborted) return reject(signal.reason);
            resolve({
                exitCode: code,
                signal: sig,
                timedOut,
                spawnError,
                output: output.slice(-KEEP_BYTES),
                durationMs: Date.now() - started,
            });
        });
    });
}

export function checkCommandGate(o: CheckCommandOptions, node?: string): Gate {
    if (!Array.isArray(o.command) || o.command.length === 0 || !o.command[0])
        throw new Error('check command: give the program and its arguments as a list, e.g. ["/usr/local/bin/check", "--quick"]');
    return {
        name: `check command ${commandText(o.command)}`,
        check: async (signal) => evaluateCommand(await runCheckCommand(o, node, signal), o),
    };
}
