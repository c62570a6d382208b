// The SSH side of the remote.Command model: dial, authenticate, open a session, setenv, exec. It follows
// @pulumi/command v1.2.1 (provider/pkg/provider/remote/connection.go) and the golang.org/x/crypto/ssh
// v0.48.0 client it uses, over a real connection made with ssh2. Errors carry Go's text, so that what a
// test sees is what `pulumi up` would print.

import * as net from "node:net";
import { Client, ClientChannel, utils as ssh2utils, type AnyAuthMethod, type ParsedKey } from "ssh2";

// The window and packet sizes ssh2's own openChannel() uses (ssh2/lib/Channel.js).
const { MAX_WINDOW, PACKET_SIZE } = require("ssh2/lib/Channel.js") as { MAX_WINDOW: number; PACKET_SIZE: number };

export interface ProxyConnectionInputs {
    host: string;
    port?: number;
    user?: string;
    password?: string;
    privateKey?: string;
    privateKeyPassword?: string;
    agentSocketPath?: string;
    hostKey?: string;
    dialErrorLimit?: number;
    perDialTimeout?: number;
}

export interface ConnectionInputs extends ProxyConnectionInputs {
    proxy?: ProxyConnectionInputs;
}

export type LogSeverity = "debug" | "info" | "warning" | "error";
export type Log = (severity: LogSeverity, message: string) => void;

/** A command's session, over SSH or (for the demo) on this machine. */
export interface CommandSession {
    /** Go's session.Setenv: an "env" request with want-reply. Rejects with "ssh: setenv failed" if refused. */
    setenv(key: string, value: string): Promise<void>;
    /** Go's session.Run: rejects with Go's error text (ExitError, ExitMissingError, ...). */
    run(cmd: string, stdin: string | undefined, output: (stream: "stdout" | "stderr", chunk: Buffer) => void): Promise<void>;
    close(): void;
}

// Defaults from connection.go's Annotate (and the SDK's connectionArgsProvideDefaults).
const DEFAULT_USER = "root";
const DEFAULT_PORT = 22;
const DIAL_ERROR_DEFAULT = 10; // connection.go dialErrorDefault
const DIAL_ERROR_UNLIMITED = -1; // connection.go dialErrorUnlimited
const DEFAULT_PER_DIAL_TIMEOUT = 15;

// pulumi/sdk go/common/util/retry/until.go: DefaultDelay, DefaultBackoff, DefaultMaxDelay.
const RETRY_DELAY_MS = 100;
const RETRY_BACKOFF = 1.5;
const RETRY_MAX_DELAY_MS = 5000;

// x/crypto/ssh session.go `signals`: an exit-signal without exit-status is reported as 128 + this.
const SIGNAL_NUMBERS: Record<string, number> = {
    ABRT: 6,
    ALRM: 14,
    FPE: 8,
    HUP: 1,
    ILL: 4,
    INT: 2,
    KILL: 9,
    PIPE: 13,
    QUIT: 3,
    SEGV: 11,
    TERM: 15,
};

// Go's syscall.Errno texts for the errors a dial commonly hits.
const ERRNO_TEXT: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ECONNRESET: "connection reset by peer",
    EHOSTUNREACH: "no route to host",
    ENETUNREACH: "network is unreachable",
    ETIMEDOUT: "connection timed out",
    EADDRNOTAVAIL: "cannot assign requested address",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ENOENT: "no such file or directory",
    EPIPE: "broken pipe",
};

function errnoText(err: NodeJS.ErrnoException): string {
    return (err.code && ERRNO_TEXT[err.code]) || err.message;
}

/** net.JoinHostPort. */
export function joinHostPort(host: string, port: number): string {
    return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The text of Go's ssh.ExitError / ExitMissingError (x/crypto/ssh session.go wait() and Waitmsg.String()).
 * `status` is undefined when no exit-status came; `signal` is the name without "SIG".
 */
export function waitError(status: number | undefined, signal?: string, msg?: string): string | undefined {
    if (status === 0) {
        return undefined;
    }
    if (status === undefined) {
        if (!signal) {
            return "wait: remote command exited without exit status or exit signal";
        }
        status = 128 + (SIGNAL_NUMBERS[signal] ?? 0);
    }
    let text = `Process exited with status ${status}`;
    if (signal) {
        text += ` from signal ${signal}`;
    }
    if (msg) {
        text += `. Reason was: ${msg}`;
    }
    return text;
}

// ---- retry (connection.go dialWithRetry over retry.Until) -------------------------------------------------

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * connection.go dialWithRetry: try, and on failure wait 100ms, 150ms, ... (x1.5, at most 5s) and try again.
 * Note that it gives up only when `dials > maxAttempts`, so a limit of N makes N+1 dials, and the final
 * error says "after N failed attempts". -1 (or any value below it) never gives up. (Go also stops when the
 * request's context ends; this model has no context.)
 */
export async function dialWithRetry<T>(msg: string, maxAttempts: number, f: () => Promise<T>, log: Log): Promise<T> {
    let delay = RETRY_DELAY_MS;
    for (let attempt = 0; ; attempt++) {
        if (delay > RETRY_MAX_DELAY_MS) {
            delay = RETRY_MAX_DELAY_MS;
        }
        try {
            return await f();
        } catch (err) {
            const dials = attempt + 1;
            if (maxAttempts > DIAL_ERROR_UNLIMITED && dials > maxAttempts) {
                throw Object.assign(new Error(`after ${attempt} failed attempts: ${(err as Error).message}`), { cause: err });
            }
            const limit = maxAttempts === -1 ? "inf" : String(maxAttempts);
            log("info", `${msg} ${dials}/${limit} failed: retrying`);
        }
        await sleep(delay);
        delay = delay * RETRY_BACKOFF;
    }
}

// ---- keys (connection.go SSHConfig with x/crypto/ssh keys.go) ---------------------------------------------

interface HostKey {
    type: string;
    blob: Buffer;
}

function readSshString(buf: Buffer, offset: number): { value: Buffer; next: number } | undefined {
    if (offset + 4 > buf.length) {
        return undefined;
    }
    const len = buf.readUInt32BE(offset);
    if (offset + 4 + len > buf.length) {
        return undefined;
    }
    return { value: buf.subarray(offset + 4, offset + 4 + len), next: offset + 4 + len };
}

function parseKeyFields(type: string | undefined, b64: string | undefined): HostKey | undefined {
    if (!type || !b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
        return undefined;
    }
    const blob = Buffer.from(b64, "base64");
    const inner = readSshString(blob, 0);
    if (!inner || inner.value.toString("latin1") !== type) {
        return undefined;
    }
    return { type, blob };
}

/** ssh.ParseAuthorizedKey, reduced to what a host key needs: an optional options field, type, base64 key. */
function parseAuthorizedKey(text: string): HostKey {
    for (const raw of text.split("\n")) {
        const line = raw.trim();
        if (line === "" || line.startsWith("#")) {
            continue;
        }
        const fields = line.split(/\s+/);
        const key = parseKeyFields(fields[0], fields[1]) ?? parseKeyFields(fields[1], fields[2]);
        if (key) {
            return key;
        }
    }
    throw new Error("ssh: no key found");
}

interface PemBlock {
    type: string;
    headers: string;
    body: Buffer;
}

function firstPemBlock(text: string): PemBlock | undefined {
    const m = /-----BEGIN ([^-\r\n]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
    if (!m) {
        return undefined;
    }
    const [headers, b64] = m[2].includes(":") ? splitPemHeaders(m[2]) : ["", m[2]];
    return { type: m[1], headers, body: Buffer.from(b64.replace(/\s+/g, ""), "base64") };
}

function splitPemHeaders(content: string): [string, string] {
    const blank = content.search(/\r?\n\r?\n/);
    return blank < 0 ? ["", content] : [content.slice(0, blank), content.slice(blank)];
}

/** The cipher name inside an "openssh-key-v1" body ("none" when not encrypted). */
function opensshCipher(body: Buffer): string | undefined {
    const magic = "openssh-key-v1\0";
    if (body.subarray(0, magic.length).toString("latin1") !== magic) {
        return undefined;
    }
    return readSshString(body, magic.length)?.value.toString("latin1");
}

function isEncrypted(block: PemBlock): boolean {
    if (block.type === "OPENSSH PRIVATE KEY") {
        const cipher = opensshCipher(block.body);
        return cipher !== undefined && cipher !== "none";
    }
    return /Proc-Type:[^\n]*ENCRYPTED/.test(block.headers);
}

/**
 * ssh.ParsePrivateKey / ParsePrivateKeyWithPassphrase (keys.go), with Go's error texts for the cases a user
 * hits: no PEM block, passphrase missing, passphrase given for a plain key, wrong passphrase. ssh2 parses.
 */
function parsePrivateKey(pem: string, passphrase: string | undefined): ParsedKey {
    const block = firstPemBlock(pem);
    if (!block) {
        throw new Error("ssh: no key found");
    }
    const encrypted = isEncrypted(block);
    if (passphrase === undefined && encrypted) {
        throw new Error("ssh: this private key is passphrase protected");
    }
    if (passphrase !== undefined && !encrypted) {
        throw new Error(block.type === "OPENSSH PRIVATE KEY" ? "ssh: key is not password protected" : "ssh: not an encrypted key");
    }
    const parsed = ssh2utils.parseKey(pem, passphrase);
    if (parsed instanceof Error) {
        // Go: x509.IncorrectPasswordError. Other parse failures keep ssh2's wording (Go's differs).
        throw new Error(passphrase !== undefined ? "x509: decryption password incorrect" : `ssh: ${parsed.message}`);
    }
    return Array.isArray(parsed) ? parsed[0] : parsed;
}

// ---- dial --------------------------------------------------------------------------------------------------

/** One entry of Go's ClientConfig.Auth: the RFC 4252 method name Go tracks, and how ssh2 performs it. */
interface AuthEntry {
    method: string;
    auth: AnyAuthMethod;
}

interface SshConfig {
    user: string;
    timeoutMs: number;
    hostKey?: HostKey;
    auth: AuthEntry[];
}

/** The agent socket is dialled once while building the config, as dialAgent does. */
function checkAgentSocket(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
        const sock = net.connect(path);
        sock.once("connect", () => {
            sock.destroy();
            resolve();
        });
        sock.once("error", (err: NodeJS.ErrnoException) => reject(new Error(`dial unix ${path}: connect: ${errnoText(err)}`)));
    });
}

/** connection.go connectionBase.SSHConfig. */
async function sshConfig(con: ProxyConnectionInputs): Promise<SshConfig> {
    let hostKey: HostKey | undefined;
    if (con.hostKey != null) {
        try {
            hostKey = parseAuthorizedKey(con.hostKey);
        } catch (err) {
            throw new Error(`failed to parse host key: ${(err as Error).message}`);
        }
    }
    const user = con.user ?? DEFAULT_USER;
    const auth: AuthEntry[] = [];
    if (con.privateKey != null) {
        const key = parsePrivateKey(con.privateKey, con.privateKeyPassword ?? undefined);
        auth.push({ method: "publickey", auth: { type: "publickey", username: user, key } });
    }
    if (con.password != null) {
        const password = con.password;
        auth.push({ method: "password", auth: { type: "password", username: user, password } });
        // ssh.KeyboardInteractive answering every question with the password.
        auth.push({
            method: "keyboard-interactive",
            auth: {
                type: "keyboard-interactive",
                username: user,
                prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)),
            },
        });
    }
    // connection_unix.go tryGetDefaultAgentSocket: SSH_AUTH_SOCK of the provider's process.
    const agentPath = con.agentSocketPath ?? (process.env.SSH_AUTH_SOCK || undefined);
    if (agentPath != null) {
        await checkAgentSocket(agentPath);
        // Go's agent signers are a "publickey" method too: after a failed privateKey, Go never tries them.
        auth.push({ method: "publickey", auth: { type: "agent", username: user, agent: agentPath } });
    }
    return { user, timeoutMs: (con.perDialTimeout ?? DEFAULT_PER_DIAL_TIMEOUT) * 1000, hostKey, auth };
}

/**
 * net.DialTimeout("tcp", ...) with Go's error text ("dial tcp 127.0.0.1:1: connect: connection refused",
 * "dial tcp ...: i/o timeout"). Go's ClientConfig.Timeout bounds only this TCP connect, not the handshake.
 */
function tcpConnect(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
        const endpoint = joinHostPort(host, port);
        let timer: NodeJS.Timeout | undefined;
        const sock = net.connect({ host, port });
        const fail = (message: string) => {
            clearTimeout(timer);
            sock.destroy();
            reject(new Error(message));
        };
        if (timeoutMs !== 0) {
            // A negative timeout is a deadline in the past in Go: the dial times out at once.
            timer = setTimeout(() => fail(`dial tcp ${endpoint}: i/o timeout`), Math.max(timeoutMs, 0));
        }
        sock.once("connect", () => {
            clearTimeout(timer);
            sock.removeAllListeners("error");
            resolve(sock);
        });
        sock.once("error", (e: NodeJS.ErrnoException & { errors?: NodeJS.ErrnoException[]; address?: string; port?: number }) => {
            // With several addresses Node reports an AggregateError; Go reports the first address's error.
            const err = (e.errors?.[0] ?? e) as typeof e;
            if (err.code === "ENOTFOUND" || err.code === "EAI_AGAIN") {
                // Go's pure resolver adds " on <dns server>" after the host; the cgo resolver does not.
                return fail(`dial tcp: lookup ${host}: no such host`);
            }
            const addr = err.address !== undefined && err.port !== undefined ? joinHostPort(err.address, err.port) : endpoint;
            fail(`dial tcp ${addr}: connect: ${errnoText(err)}`);
        });
    });
}

/** ssh.NewClientConn over a connected socket: key exchange, host key check, authentication. */
function handshake(sock: net.Socket, cfg: SshConfig): Promise<SshClient> {
    return new Promise((resolve, reject) => {
        const client = new Client();
        let settled = false;
        let hostKeyMismatch = false;
        let peerHostKeyAlgos: string | undefined;
        // x/crypto/ssh client_auth.go clientAuthenticate: try "none", then the first config.Auth entry whose
        // method was not tried yet and that the server still offers. Methods that failed go to `tried`.
        // Differs: when a method errors (an agent that cannot sign, say) and nothing is left, Go returns that
        // error; ssh2 does not surface it, so this reports the "unable to authenticate" text instead.
        const tried: string[] = [];
        let lastMethods: string[] = [];
        let current: string | undefined;
        let exhausted = false;
        const authHandler = (methodsLeft: string[] | null, partialSuccess: boolean | null) => {
            if (current === undefined) {
                current = "none";
                return { type: "none", username: cfg.user };
            }
            if (!partialSuccess && !tried.includes(current)) {
                tried.push(current);
            }
            const methods = methodsLeft ?? lastMethods;
            lastMethods = methods;
            const next = cfg.auth.find((a) => !tried.includes(a.method) && methods.includes(a.method));
            if (!next) {
                exhausted = true;
                return false;
            }
            current = next.method;
            return next.auth;
        };
        const fail = (message: string) => {
            if (settled) {
                return;
            }
            settled = true;
            client.removeAllListeners("ready");
            client.on("error", () => undefined);
            sock.destroy();
            reject(new Error(`ssh: handshake failed: ${message}`));
        };
        client.on("ready", () => {
            settled = true;
            resolve(new SshClient(client));
        });
        client.on("error", (err: Error & { level?: string; code?: unknown }) => {
            if (hostKeyMismatch) {
                return fail("ssh: host key mismatch"); // client.go fixedHostKey.check
            }
            if (exhausted) {
                return fail(`ssh: unable to authenticate, attempted methods [${tried.join(" ")}], no supported methods remain`);
            }
            if (/no matching host key format/.test(err.message) && cfg.hostKey) {
                // common.go AlgorithmNegotiationError: Go offered only the pinned key's type.
                const peer = (peerHostKeyAlgos ?? "")
                    .split(",")
                    .filter((a) => a !== "")
                    .join(" ");
                return fail(`ssh: no common algorithm for host key; we offered: [${cfg.hostKey.type}], peer offered: [${peer}]`);
            }
            if (typeof err.code === "number") {
                return fail(`ssh: disconnect, reason ${err.code}: ${err.message}`); // messages.go disconnectMsg
            }
            if (err.message === "Connection lost before handshake") {
                return fail("EOF"); // Go's readVersion hits io.EOF
            }
            if (err.level === "client-socket") {
                const local = joinHostPort(sock.localAddress ?? "", sock.localPort ?? 0);
                const remote = joinHostPort(sock.remoteAddress ?? "", sock.remotePort ?? 0);
                return fail(`read tcp ${local}->${remote}: read: ${errnoText(err as NodeJS.ErrnoException)}`);
            }
            // Anything else keeps ssh2's own wording: Go's differs.
            fail(err.message);
        });
        client.on("close", () => fail("EOF"));
        client.connect({
            sock,
            username: cfg.user,
            readyTimeout: 0, // Go puts no limit on the handshake (only the request's context would).
            keepaliveInterval: 0,
            authHandler: authHandler as never,
            hostVerifier: (key: Buffer) => {
                hostKeyMismatch = cfg.hostKey !== undefined && !key.equals(cfg.hostKey.blob);
                return !hostKeyMismatch;
            },
            // connection.go: HostKeyAlgorithms = []string{publicKey.Type()} when a host key is pinned. So an
            // "ssh-rsa" pin offers only SHA-1 RSA, which OpenSSH >= 8.8 refuses, in Go and here alike.
            algorithms: cfg.hostKey ? { serverHostKey: [cfg.hostKey.type as never] } : undefined,
            debug: (line: string) => {
                const m = /^Handshake: \(remote\) Host key format: (.*)$/.exec(line);
                if (m) {
                    peerHostKeyAlgos = m[1];
                }
            },
        });
    });
}

/**
 * connection.go Connection.Dial: build the config (its errors are not retried), then ssh.Dial under
 * dialWithRetry. The bastion path (`proxy`) is not modelled.
 */
export async function dialSsh(con: ConnectionInputs, log: Log): Promise<SshClient> {
    const cfg = await sshConfig(con);
    if (con.proxy != null) {
        throw new Error("remote.Command model: connection.proxy (dialling through a bastion host) is not modelled");
    }
    const port = Math.trunc(con.port ?? DEFAULT_PORT);
    const limit = con.dialErrorLimit ?? DIAL_ERROR_DEFAULT;
    return dialWithRetry("Dial", limit, async () => handshake(await tcpConnect(con.host, port, cfg.timeoutMs), cfg), log);
}

// ---- client and session -------------------------------------------------------------------------------------

// ssh2's Client.exec() sends "env" without want-reply, so a refused variable would go unnoticed. Go's
// Setenv asks for a reply, so sessions are opened and driven through ssh2's internals (as of ssh2 1.17.0:
// _chanMgr, _protocol.session/env/exec, Channel._callbacks), the way its own exec() does.
type Internals = any;

const REJECTION_REASONS: Record<number, string> = {
    1: "administratively prohibited",
    2: "connect failed",
    3: "unknown channel type",
    4: "resource shortage",
};

export class SshClient {
    constructor(private readonly client: Client) {
        // An 'error' without a listener would crash the process; the session calls report their own errors.
        client.on("error", () => undefined);
    }

    /** client.NewSession(). */
    newSession(): Promise<SshSession> {
        return new Promise((resolve, reject) => {
            const c = this.client as Internals;
            const wrapper: Internals = (err: (Error & { reason?: number }) | undefined, chan: ClientChannel) => {
                if (err) {
                    const reason = err.reason !== undefined ? (REJECTION_REASONS[err.reason] ?? `unknown reason ${err.reason}`) : undefined;
                    const description = err.message.replace(/^\(SSH\) Channel open failure: /, "");
                    reject(new Error(reason ? `ssh: rejected: ${reason} (${description})` : err.message));
                    return;
                }
                resolve(new SshSession(c, chan));
            };
            wrapper.type = "session";
            const id = c._chanMgr.add(wrapper);
            if (id === -1) {
                reject(new Error("ssh: no free channels"));
                return;
            }
            c._protocol.session(id, MAX_WINDOW, PACKET_SIZE);
        });
    }

    /** Go never closes this client (commandOutputs.go); the model does, so test processes can exit. */
    close(): void {
        this.client.end();
    }
}

export class SshSession implements CommandSession {
    constructor(
        private readonly client: Internals,
        private readonly chan: ClientChannel,
    ) {}

    /** A channel request with want-reply; resolves with whether the server accepted it. */
    private request(send: (id: number) => void): Promise<boolean> {
        const chan = this.chan as Internals;
        return new Promise((resolve, reject) => {
            if (chan.outgoing.state !== "open") {
                reject(new Error("EOF"));
                return;
            }
            chan._callbacks.push((hadErr: boolean | Error) => {
                if (hadErr instanceof Error) {
                    reject(hadErr);
                } else {
                    resolve(!hadErr);
                }
            });
            send(chan.outgoing.id);
        });
    }

    async setenv(key: string, value: string): Promise<void> {
        const ok = await this.request((id) => this.client._protocol.env(id, key, value, true));
        if (!ok) {
            throw new Error("ssh: setenv failed"); // session.go Setenv
        }
    }

    async run(cmd: string, stdin: string | undefined, output: (stream: "stdout" | "stderr", chunk: Buffer) => void): Promise<void> {
        const chan = this.chan as Internals;
        chan.on("data", (chunk: Buffer) => output("stdout", chunk));
        chan.stderr.on("data", (chunk: Buffer) => output("stderr", chunk));
        const stderrEnded = new Promise<void>((resolve) => chan.stderr.once("end", resolve));
        const closed = new Promise<void>((resolve) => chan.once("close", resolve));
        const ok = await this.request((id) => this.client._protocol.exec(id, cmd, true));
        if (!ok) {
            throw new Error(`ssh: command ${cmd} failed`); // session.go Start
        }
        chan.subtype = "exec";
        // Go copies Stdin (an empty reader when unset) and then sends EOF.
        chan.end(stdin === undefined ? undefined : Buffer.from(stdin, "utf8"));
        await Promise.all([closed, stderrEnded]);
        const exit = chan._exit as { code: number | null | undefined; signal?: string; desc?: string };
        const signal = exit.code === null ? exit.signal?.replace(/^SIG/, "") : undefined;
        const text = waitError(exit.code ?? undefined, signal, exit.desc);
        if (text !== undefined) {
            throw new Error(text);
        }
    }

    close(): void {
        if (!this.chan.destroyed) {
            this.chan.close();
        }
    }
}
