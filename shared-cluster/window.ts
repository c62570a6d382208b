// Maintenance windows: "only roll nodes mon-fri between 22:00 and 04:00 Europe/Berlin". Pure functions, no I/O;
// time-zone math with Intl.DateTimeFormat (the ICU data Node ships), no dependency.
//
// Semantics follow kured's --reboot-days / --start-time / --end-time / --time-zone, with one deliberate extension
// kured lacks: end < start means the window crosses midnight. The window OPENS on each listed day at `start` and
// closes at `end` the same day (or the next day when it crosses midnight): with mon-fri 22:00–04:00, Friday
// 23:30 and Saturday 02:00 are inside, Monday 02:00 is not (Sunday is not listed). Start is inclusive, end
// exclusive. Days: names (su, sun, sunday, … as kured accepts), numbers 0–6 (0 = Sunday, as kured), ranges
// (mon-fri, fri-mon wraps), lists (mon,wed,fri), or "*" / omitted for every day. Times: HH:MM or HH:MM:SS in
// 24-hour form; the end may be 24:00. Default: every day 00:00–24:00 UTC (always open).
//
// Wall-clock rules hold across daylight-saving changes: isOpen compares local weekday and time of day; an opening
// that falls into a DST gap (02:30 on the spring-forward night) happens when the gap ends (03:00); one that falls
// into a repeated hour (autumn) happens at its first occurrence.
import { blocked, pass, systemClock, type Clock, type Gate, type GateResult } from "./gate";

export interface MaintenanceWindowSpec {
    /** "mon-fri", "Mon,Tue", ["sat", "sun"], "*" (default every day). */
    days?: string | string[];
    /** "22:00" (default 00:00). */
    start?: string;
    /** "04:00" (default 24:00); earlier than start = crosses midnight. */
    end?: string;
    /** IANA name, e.g. "Europe/Berlin" (default UTC). */
    timeZone?: string;
}

export interface MaintenanceWindow {
    /** Weekdays the window opens on, 0 = Sunday … 6 = Saturday, sorted. */
    days: number[];
    /** Seconds after local midnight. */
    startSec: number;
    /** Seconds after local midnight, 1..86400; < startSec when the window crosses midnight. */
    endSec: number;
    /** Canonical IANA name. */
    timeZone: string;
}

export class MaintenanceWindowError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "MaintenanceWindowError";
    }
}

const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const DAY_WORDS: Record<string, number> = {};
["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"].forEach((full, i) => {
    DAY_WORDS[full] = i;
    DAY_WORDS[full.slice(0, 3)] = i;
    DAY_WORDS[full.slice(0, 2)] = i;
});
const DAYS_HELP = "use mon … sun (or 0–6, 0 = Sunday), a range like mon-fri, a list like mon,wed,fri, or *";

function parseDay(word: string, whole: string): number {
    const w = word.trim().toLowerCase();
    if (/^\d+$/.test(w)) {
        const n = Number(w);
        if (n >= 0 && n <= 6) return n;
        throw new MaintenanceWindowError(`day number ${w} in "${whole}" is out of range 0–6 (0 = Sunday)`);
    }
    const d = DAY_WORDS[w];
    if (d === undefined) throw new MaintenanceWindowError(`unknown day "${word.trim()}" in "${whole}": ${DAYS_HELP}`);
    return d;
}

/** Pure: "mon-fri" / "Mon,Tue" / "fri-mon" / "*" / ["sat","sun"] → sorted weekday numbers. */
export function parseDays(days: string | string[] | undefined): number[] {
    const whole = Array.isArray(days) ? days.join(",") : (days ?? "*");
    const items = whole
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
    if (items.length === 0) return [0, 1, 2, 3, 4, 5, 6];
    const set = new Set<number>();
    for (const item of items) {
        if (item === "*") [0, 1, 2, 3, 4, 5, 6].forEach((d) => set.add(d));
        else if (item.includes("-")) {
            const parts = item.split("-");
            if (parts.length !== 2 || !parts[0].trim() || !parts[1].trim())
                throw new MaintenanceWindowError(`bad day range "${item}" in "${whole}": ${DAYS_HELP}`);
            const a = parseDay(parts[0], whole);
            const b = parseDay(parts[1], whole);
            for (let d = a; ; d = (d + 1) % 7) {
                set.add(d);
                if (d === b) break;
            }
        } else set.add(parseDay(item, whole));
    }
    return [...set].sort((a, b) => a - b);
}

/** Pure: "HH:MM" or "HH:MM:SS" → seconds after midnight; "24:00" only when `allow24`. */
export function parseTimeOfDay(text: string, what: string, allow24 = false): number {
    const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
    const bad = () =>
        new MaintenanceWindowError(`invalid ${what} time "${text}": use HH:MM in 24-hour form, 00:00–23:59${allow24 ? " (or 24:00)" : ""}`);
    if (!m) throw bad();
    const [h, min, s] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
    if (allow24 && h === 24 && min === 0 && s === 0) return 86400;
    if (h > 23 || min > 59 || s > 59) throw bad();
    return h * 3600 + min * 60 + s;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
    let f = formatters.get(timeZone);
    if (!f) {
        f = new Intl.DateTimeFormat("en-US", {
            timeZone,
            hourCycle: "h23",
            year: "numeric",
            month: "2-digit",
            day: "2-digit",
            hour: "2-digit",
            minute: "2-digit",
            second: "2-digit",
        });
        formatters.set(timeZone, f);
    }
    return f;
}

/** Pure: checks an IANA time zone name and returns its canonical spelling. */
export function canonicalTimeZone(name: string): string {
    const tz = name.trim();
    if (!tz) throw new MaintenanceWindowError("the time zone is empty: use an IANA name like Europe/Berlin, or UTC");
    try {
        return new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
    } catch {
        throw new MaintenanceWindowError(`unknown time zone "${tz}": use an IANA name like Europe/Berlin, America/New_York or UTC`);
    }
}

/**
 * Pure: validates a window given as fields, or as one string "mon-fri 22:00-04:00 Europe/Berlin" (days and zone
 * optional: "22:00–04:00" is every day in UTC). Errors say which part is wrong and what is accepted.
 */
export function parseMaintenanceWindow(spec: string | MaintenanceWindowSpec): MaintenanceWindow {
    let fields: MaintenanceWindowSpec;
    if (typeof spec === "string") {
        const tokens = spec.trim().split(/\s+/).filter(Boolean);
        const rangeAt = tokens.findIndex((t) => /^\d{1,2}:\d{2}(:\d{2})?[-–]\d{1,2}:\d{2}(:\d{2})?$/.test(t));
        if (rangeAt < 0 || rangeAt > 1 || tokens.length > rangeAt + 2)
            throw new MaintenanceWindowError(
                `cannot read maintenance window "${spec}": expected "[DAYS] HH:MM-HH:MM [TIME_ZONE]", e.g. "mon-fri 22:00-04:00 Europe/Berlin"`,
            );
        const [start, end] = tokens[rangeAt].split(/[-–]/);
        fields = { days: rangeAt === 1 ? tokens[0] : undefined, start, end, timeZone: tokens[rangeAt + 1] };
    } else fields = spec ?? {};
    const days = parseDays(fields.days);
    const startSec = parseTimeOfDay(fields.start ?? "00:00", "start");
    const endSec = parseTimeOfDay(fields.end ?? "24:00", "end", true);
    if (startSec === endSec)
        throw new MaintenanceWindowError(
            `the window's start and end are both ${fields.start ?? "00:00"}: for a whole day use start 00:00 and end 24:00 (or leave both out)`,
        );
    return { days, startSec, endSec, timeZone: canonicalTimeZone(fields.timeZone ?? "UTC") };
}

interface LocalParts {
    y: number;
    mo: number;
    d: number;
    h: number;
    mi: number;
    s: number;
}

function localParts(ms: number, timeZone: string): LocalParts {
    const out: Record<string, number> = {};
    for (const p of formatter(timeZone).formatToParts(new Date(ms))) if (p.type !== "literal") out[p.type] = Number(p.value);
    return { y: out.year, mo: out.month, d: out.day, h: out.hour === 24 ? 0 : out.hour, mi: out.minute, s: out.second };
}

/** UTC offset of the zone at an instant, in ms (Berlin in winter: +3600000). */
function offsetMs(ms: number, timeZone: string): number {
    const p = localParts(ms, timeZone);
    return Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s) - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant when the zone's wall clock shows y-mo-d + sec: the earlier one when that wall time happens twice
 * (autumn), and one near the gap when it never happens (spring; nextOpening then finds where the window opens).
 */
function zonedInstant(y: number, mo: number, d: number, sec: number, timeZone: string): number {
    const wall = Date.UTC(y, mo - 1, d) + sec * 1000;
    // the offsets in force a little before and after: any transition near this wall time is between them
    const offsets = [...new Set([offsetMs(wall - 6 * 3600_000, timeZone), offsetMs(wall + 6 * 3600_000, timeZone)])];
    const exact = offsets.map((o) => wall - o).filter((t) => wall - offsetMs(t, timeZone) === t);
    return exact.length ? Math.min(...exact) : wall - offsets[0];
}

const weekdayOf = (y: number, mo: number, d: number) => new Date(Date.UTC(y, mo - 1, d)).getUTCDay();

/** Pure: is the window open at `now`? */
export function isOpen(w: MaintenanceWindow, now: Date): boolean {
    const p = localParts(now.getTime(), w.timeZone);
    const wd = weekdayOf(p.y, p.mo, p.d);
    const sec = p.h * 3600 + p.mi * 60 + p.s;
    const listed = (day: number) => w.days.includes(day);
    if (w.startSec < w.endSec) return listed(wd) && sec >= w.startSec && sec < w.endSec;
    // crosses midnight: the evening part of a listed day, or the early part of the day after a listed day
    return (listed(wd) && sec >= w.startSec) || (listed((wd + 6) % 7) && sec < w.endSec);
}

/** Pure: when the window next opens: `now` itself when it is open now. */
export function nextOpening(w: MaintenanceWindow, now: Date): Date {
    if (isOpen(w, now)) return now;
    const t0 = now.getTime();
    const p = localParts(t0, w.timeZone);
    for (let k = 0; k <= 8; k++) {
        const day = new Date(Date.UTC(p.y, p.mo - 1, p.d + k));
        if (!w.days.includes(day.getUTCDay())) continue;
        let t = zonedInstant(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), w.startSec, w.timeZone);
        if (t <= t0) continue;
        const open = (ms: number) => isOpen(w, new Date(ms));
        // When the wall-clock start falls into a DST gap it does not exist, and the instant found may lie on
        // either side of the gap: move forward to where the window is open, then back to where it opened (the
        // end of the gap), to the minute.
        for (let i = 0; i < 180 && !open(t); i++) t += 60_000;
        if (!open(t)) continue;
        for (let i = 0; i < 180 && t - 60_000 > t0 && open(t - 60_000); i++) t -= 60_000;
        return new Date(t);
    }
    throw new Error(`maintenance window ${describeWindow(w)} never opens`); // unreachable: days is never empty
}

/** Pure: when the currently open window closes (undefined when it is closed now). */
export function nextClosing(w: MaintenanceWindow, now: Date): Date | undefined {
    if (!isOpen(w, now)) return undefined;
    const p = localParts(now.getTime(), w.timeZone);
    const sec = p.h * 3600 + p.mi * 60 + p.s;
    // the end is today, unless the window crosses midnight and we are in its evening part
    const addDays = w.startSec > w.endSec && sec >= w.startSec ? 1 : 0;
    const day = new Date(Date.UTC(p.y, p.mo - 1, p.d + addDays));
    const endDayShift = w.endSec === 86400 ? 1 : 0;
    const endDay = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() + endDayShift));
    return new Date(zonedInstant(endDay.getUTCFullYear(), endDay.getUTCMonth() + 1, endDay.getUTCDate(), w.endSec % 86400, w.timeZone));
}

const pad = (n: number) => String(n).padStart(2, "0");

function clock(sec: number): string {
    const h = Math.floor(sec / 3600);
    const m = Math.floor((sec % 3600) / 60);
    const s = sec % 60;
    return `${pad(h)}:${pad(m)}${s ? `:${pad(s)}` : ""}`;
}

/** Pure: "mon-fri" / "sat,sun" / "fri-mon" / "every day" from weekday numbers. */
export function describeDays(days: number[]): string {
    if (days.length === 7) return "every day";
    const set = new Set(days);
    // start each run at a listed day whose predecessor is not listed (circular), so fri-mon stays one run
    const runs: string[] = [];
    for (let d = 0; d < 7; d++) {
        if (!set.has(d) || set.has((d + 6) % 7)) continue;
        let e = d;
        while (set.has((e + 1) % 7)) e = (e + 1) % 7;
        const len = ((e - d + 7) % 7) + 1;
        runs.push(len === 1 ? DAY_NAMES[d] : len === 2 ? `${DAY_NAMES[d]},${DAY_NAMES[e]}` : `${DAY_NAMES[d]}-${DAY_NAMES[e]}`);
    }
    // order runs Monday-first as people read a week
    const key = (r: string) => (DAY_NAMES.indexOf(r.slice(0, 3)) + 6) % 7;
    return runs.sort((a, b) => key(a) - key(b)).join(",");
}

/** Pure: "mon-fri 22:00–04:00 Europe/Berlin". */
export function describeWindow(w: MaintenanceWindow): string {
    return `${describeDays(w.days)} ${clock(w.startSec)}–${clock(w.endSec)} ${w.timeZone}`;
}

/** Pure: "2026-12-02T22:00:00+01:00": the instant as the zone's wall clock with its UTC offset. */
export function formatInTimeZone(d: Date, timeZone: string): string {
    const p = localParts(d.getTime(), timeZone);
    const off = Math.round(offsetMs(d.getTime(), timeZone) / 60_000);
    const sign = off < 0 ? "-" : "+";
    const a = Math.abs(off);
    return `${p.y}-${pad(p.mo)}-${pad(p.d)}T${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

export interface WindowVerdictOptions {
    /** What to tell the user to do, appended to the closed message. Default "run `pulumi up` again then". */
    hint?: string;
    /** Waiting for the window is allowed (the verdict is not final). Default false: fail at once. */
    wait?: boolean;
}

/** Pure: open → pass; closed → blocked with when it opens (retryAt), final unless `wait`. */
export function evaluateWindow(w: MaintenanceWindow, now: Date, o: WindowVerdictOptions = {}): GateResult {
    const desc = describeWindow(w);
    if (isOpen(w, now)) {
        const closes = nextClosing(w, now);
        return pass(`inside the window (${desc})${closes ? `; it closes at ${formatInTimeZone(closes, w.timeZone)}` : ""}`);
    }
    const opens = nextOpening(w, now);
    const hint = o.hint ?? "run `pulumi up` again then";
    return blocked(`outside the window (${desc}); it opens at ${formatInTimeZone(opens, w.timeZone)}${hint ? `; ${hint}` : ""}`, {
        retryAt: opens,
        final: !o.wait,
    });
}

/** The window as a gate (no I/O: reads the clock). */
export function windowGate(w: MaintenanceWindow, o: WindowVerdictOptions & { clock?: Clock } = {}): Gate {
    const c = o.clock ?? systemClock;
    return { name: "maintenance window", check: async () => evaluateWindow(w, new Date(c.now()), o) };
}
