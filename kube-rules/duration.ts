// Go-style durations ("30s", "5m", "1h2m3.5s", "300ms"), as kubectl's --timeout flag takes them.
// No installed library parses Go's exact grammar, so this is a small port of time.ParseDuration.

const UNIT_SECONDS: Record<string, number> = {
    ns: 1e-9,
    us: 1e-6,
    µs: 1e-6, // U+00B5 micro sign
    μs: 1e-6, // U+03BC Greek mu
    ms: 1e-3,
    s: 1,
    m: 60,
    h: 3600,
};

/** Thrown for text that is not a Go duration. The message says which form is expected. */
export class DurationError extends Error {
    constructor(
        public readonly text: string,
        detail: string,
    ) {
        super(`invalid duration "${text}": ${detail}; expected a Go duration such as 30s, 5m, 1h2m or 0`);
        this.name = "DurationError";
    }
}

/**
 * Parses a Go duration into seconds (fractional). Like Go: a bare "0" is allowed, any other number needs
 * a unit, units may be combined ("1h2m"), a leading sign applies to the whole value.
 */
export function parseDuration(text: string): number {
    const original = text;
    let s = text.trim();
    if (s === "") throw new DurationError(original, "empty value");
    let sign = 1;
    if (s[0] === "-" || s[0] === "+") {
        if (s[0] === "-") sign = -1;
        s = s.slice(1);
    }
    if (s === "0") return 0;
    if (s === "") throw new DurationError(original, "no number after the sign");
    let total = 0;
    const part = /^(\d*)(?:\.(\d*))?([a-zµμ]*)/;
    while (s.length > 0) {
        const m = part.exec(s);
        if (!m || (m[1] === "" && (m[2] === undefined || m[2] === ""))) {
            throw new DurationError(original, `unexpected "${s}"`);
        }
        const [whole, intPart, fracPart, unit] = m;
        if (unit === "") throw new DurationError(original, "missing unit");
        const factor = UNIT_SECONDS[unit];
        if (factor === undefined) throw new DurationError(original, `unknown unit "${unit}"`);
        total += Number(`${intPart || "0"}.${fracPart || "0"}`) * factor;
        s = s.slice(whole.length);
    }
    return sign * total;
}

/** Formats seconds the way Go prints a time.Duration: "0s", "5s", "1m0s", "2m30s", "1h0m0s", "1.5s", "300ms". */
export function formatDuration(seconds: number): string {
    if (seconds === 0) return "0s";
    const negative = seconds < 0;
    let rest = Math.abs(seconds);
    let out: string;
    if (rest < 1) {
        const ms = rest * 1000;
        if (ms >= 1) out = `${trimNumber(ms)}ms`;
        else if (ms * 1000 >= 1) out = `${trimNumber(ms * 1000)}µs`;
        else out = `${Math.round(ms * 1e6)}ns`;
    } else {
        const h = Math.floor(rest / 3600);
        rest -= h * 3600;
        const m = Math.floor(rest / 60);
        rest -= m * 60;
        const sec = `${trimNumber(rest)}s`;
        out = h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
    }
    return negative ? `-${out}` : out;
}

function trimNumber(n: number): string {
    // At most nanosecond precision, no trailing zeros, like Go.
    return String(Number(n.toFixed(9)));
}
