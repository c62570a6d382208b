// Maintenance windows: pure functions, across time zones, midnight and daylight-saving changes.
import assert from "node:assert/strict";
import {
    describeDays,
    describeWindow,
    evaluateWindow,
    formatInTimeZone,
    isOpen,
    MaintenanceWindowError,
    nextClosing,
    nextOpening,
    parseDays,
    parseMaintenanceWindow,
    waitUntil,
    windowGate,
    type MaintenanceWindow,
} from "../../shared-cluster";
import { JumpClock } from "./helpers";

const at = (iso: string) => new Date(iso);
const opensAt = (w: MaintenanceWindow, iso: string) => formatInTimeZone(nextOpening(w, at(iso)), w.timeZone);

describe("shared-cluster: maintenance window", () => {
    describe("parsing", () => {
        it("reads fields or one string; defaults: every day, 00:00–24:00, UTC", () => {
            const a = parseMaintenanceWindow({ days: "mon-fri", start: "22:00", end: "04:00", timeZone: "Europe/Berlin" });
            const b = parseMaintenanceWindow("mon-fri 22:00-04:00 Europe/Berlin");
            const c = parseMaintenanceWindow("Mon-Fri 22:00–04:00 Europe/Berlin");
            assert.deepEqual(a, { days: [1, 2, 3, 4, 5], startSec: 22 * 3600, endSec: 4 * 3600, timeZone: "Europe/Berlin" });
            assert.deepEqual(b, a);
            assert.deepEqual(c, a);
            assert.deepEqual(parseMaintenanceWindow({}), { days: [0, 1, 2, 3, 4, 5, 6], startSec: 0, endSec: 86400, timeZone: "UTC" });
            assert.deepEqual(parseMaintenanceWindow("22:00-04:00"), {
                days: [0, 1, 2, 3, 4, 5, 6],
                startSec: 79200,
                endSec: 14400,
                timeZone: "UTC",
            });
            assert.equal(parseMaintenanceWindow({ timeZone: "utc" }).timeZone, "UTC");
        });
        it("days as kured accepts them: names, 2/3-letter and full, numbers 0–6, ranges (wrapping), lists, *", () => {
            assert.deepEqual(parseDays("mon-fri"), [1, 2, 3, 4, 5]);
            assert.deepEqual(parseDays("Mon,Tue"), [1, 2]);
            assert.deepEqual(parseDays(["saturday", "su"]), [0, 6]);
            assert.deepEqual(parseDays("fri-mon"), [0, 1, 5, 6]);
            assert.deepEqual(parseDays("0,6"), [0, 6]);
            assert.deepEqual(parseDays("*"), [0, 1, 2, 3, 4, 5, 6]);
            assert.deepEqual(parseDays(undefined), [0, 1, 2, 3, 4, 5, 6]);
            assert.equal(describeDays([1, 2, 3, 4, 5]), "mon-fri");
            assert.equal(describeDays([0, 1, 5, 6]), "fri-mon");
            assert.equal(describeDays([0, 6]), "sat,sun");
            assert.equal(describeDays([1, 3, 5]), "mon,wed,fri");
            assert.equal(describeDays([0, 1, 2, 3, 4, 5, 6]), "every day");
        });
        it("clear errors for bad days, times, zones and strings", () => {
            const bad = (spec: any, re: RegExp) =>
                assert.throws(
                    () => parseMaintenanceWindow(spec),
                    (e: any) => e instanceof MaintenanceWindowError && re.test(e.message),
                );
            bad({ days: "mon-fir" }, /^unknown day "fir" in "mon-fir": use mon … sun/);
            bad({ days: "7" }, /^day number 7 in "7" is out of range 0–6/);
            bad({ days: "mon-" }, /^bad day range "mon-"/);
            bad({ start: "25:00" }, /^invalid start time "25:00": use HH:MM in 24-hour form/);
            bad({ end: "4pm" }, /^invalid end time "4pm"/);
            bad({ start: "24:00" }, /^invalid start time "24:00"/);
            bad({ start: "10:00", end: "10:00" }, /start and end are both 10:00/);
            bad({ timeZone: "Europe/Berln" }, /^unknown time zone "Europe\/Berln": use an IANA name/);
            bad(
                "mon-fri 22:00 Europe/Berlin",
                /^cannot read maintenance window "mon-fri 22:00 Europe\/Berlin": expected "\[DAYS\] HH:MM-HH:MM \[TIME_ZONE\]"/,
            );
        });
    });

    describe("open / next opening", () => {
        const berlin = parseMaintenanceWindow("mon-fri 22:00-04:00 Europe/Berlin");

        it("the issue's example: closed on a Wednesday noon, opens at 22:00 Berlin time, and says so", () => {
            const r = evaluateWindow(berlin, at("2026-12-02T12:00:00Z"));
            assert.deepEqual(r, {
                ok: false,
                reason: "outside the window (mon-fri 22:00–04:00 Europe/Berlin); it opens at 2026-12-02T22:00:00+01:00; run `pulumi up` again then",
                retryAt: at("2026-12-02T21:00:00Z"),
                final: true,
            });
            assert.equal(describeWindow(berlin), "mon-fri 22:00–04:00 Europe/Berlin");
            const cli = evaluateWindow(berlin, at("2026-12-02T12:00:00Z"), { hint: "run node-upgrade again then", wait: true });
            assert.ok(!cli.ok && cli.reason.endsWith("; run node-upgrade again then") && !cli.final);
        });

        it("crosses midnight: Friday night runs into Saturday morning, Monday morning belongs to (unlisted) Sunday", () => {
            const open = (iso: string) => isOpen(berlin, at(iso));
            assert.equal(open("2026-12-04T21:59:59+01:00"), false, "Fri before start");
            assert.equal(open("2026-12-04T22:00:00+01:00"), true, "start is inclusive");
            assert.equal(open("2026-12-05T02:00:00+01:00"), true, "Sat 02:00: the tail of Friday's window");
            assert.equal(open("2026-12-05T04:00:00+01:00"), false, "end is exclusive");
            assert.equal(open("2026-12-05T22:30:00+01:00"), false, "Sat evening: Saturday is not listed");
            assert.equal(open("2026-12-07T02:00:00+01:00"), false, "Mon 02:00 is Sunday's window, and Sunday is not listed");
            assert.equal(open("2026-12-08T02:00:00+01:00"), true, "Tue 02:00: Monday's window");
            assert.equal(
                opensAt(berlin, "2026-12-05T05:00:00+01:00"),
                "2026-12-07T22:00:00+01:00",
                "after Friday's window: Monday evening",
            );
            assert.equal(
                formatInTimeZone(nextClosing(berlin, at("2026-12-04T23:00:00+01:00"))!, "Europe/Berlin"),
                "2026-12-05T04:00:00+01:00",
            );
            assert.equal(
                formatInTimeZone(nextClosing(berlin, at("2026-12-05T01:00:00+01:00"))!, "Europe/Berlin"),
                "2026-12-05T04:00:00+01:00",
            );
            assert.equal(nextClosing(berlin, at("2026-12-05T05:00:00+01:00")), undefined);
            assert.deepEqual(nextOpening(berlin, at("2026-12-04T23:00:00+01:00")), at("2026-12-04T23:00:00+01:00"), "open now: now");
        });

        it("the same wall-clock window in other zones, with their offsets (and half-hour ones)", () => {
            const ny = parseMaintenanceWindow("sat,sun 01:00-05:00 America/New_York");
            // Wed 2026-12-02 12:00Z → Saturday 01:00 EST (-05:00)
            assert.equal(opensAt(ny, "2026-12-02T12:00:00Z"), "2026-12-05T01:00:00-05:00");
            // in summer the offset is -04:00
            assert.equal(opensAt(ny, "2026-07-01T12:00:00Z"), "2026-07-04T01:00:00-04:00");
            const kolkata = parseMaintenanceWindow("* 23:30-00:30 Asia/Kolkata");
            assert.equal(opensAt(kolkata, "2026-12-02T12:00:00Z"), "2026-12-02T23:30:00+05:30");
            assert.equal(isOpen(kolkata, at("2026-12-02T18:45:00Z")), true, "00:15 IST");
            const auckland = parseMaintenanceWindow("mon 09:00-10:00 Pacific/Auckland");
            // Sunday 2026-12-06 21:00Z is already Monday 10:00 in Auckland (+13:00): next Monday
            assert.equal(opensAt(auckland, "2026-12-06T21:00:00Z"), "2026-12-14T09:00:00+13:00");
            assert.equal(opensAt(auckland, "2026-12-06T19:00:00Z"), "2026-12-07T09:00:00+13:00", "Sunday 19:00Z = Monday 08:00 NZDT");
        });

        it("daylight saving: a start inside the spring-forward gap opens when the gap ends; the repeated autumn hour opens once", () => {
            const w = parseMaintenanceWindow({ start: "02:30", end: "05:00", timeZone: "Europe/Berlin" });
            // 2026-03-29: 02:00 CET → 03:00 CEST; 02:30 does not exist
            assert.equal(opensAt(w, "2026-03-28T12:00:00Z"), "2026-03-29T03:00:00+02:00");
            assert.equal(isOpen(w, at("2026-03-29T00:59:59Z")), false, "01:59:59 CET");
            assert.equal(isOpen(w, at("2026-03-29T01:00:00Z")), true, "03:00 CEST");
            // 2026-10-25: 03:00 CEST → 02:00 CET; 02:30 happens twice: the first one opens it
            assert.equal(opensAt(w, "2026-10-24T12:00:00Z"), "2026-10-25T02:30:00+02:00");
            assert.equal(formatInTimeZone(nextClosing(w, at("2026-10-25T02:00:00Z"))!, "Europe/Berlin"), "2026-10-25T05:00:00+01:00");
            const ny = parseMaintenanceWindow({ days: "sun", start: "01:00", end: "03:00", timeZone: "America/New_York" });
            assert.equal(opensAt(ny, "2026-03-07T12:00:00Z"), "2026-03-08T01:00:00-05:00");
            assert.equal(
                formatInTimeZone(nextClosing(ny, at("2026-03-08T06:30:00Z"))!, ny.timeZone),
                "2026-03-08T03:00:00-04:00",
                "only 1 h long that night",
            );
        });

        it("agrees with plain UTC / fixed-offset arithmetic, and nextOpening is the first open instant (randomised)", () => {
            let seed = 14;
            const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
            const windows = [
                { text: "mon-fri 22:00-04:00", offsetMin: 0, tz: "UTC" },
                { text: "sat,sun 02:30-03:15", offsetMin: 330, tz: "Asia/Kolkata" },
                { text: "fri-mon 23:59-00:01", offsetMin: 0, tz: "UTC" },
                { text: "wed 09:00-17:00", offsetMin: -600, tz: "Pacific/Honolulu" },
            ];
            for (const spec of windows) {
                const w = parseMaintenanceWindow(`${spec.text} ${spec.tz}`);
                const reference = (ms: number) => {
                    const local = new Date(ms + spec.offsetMin * 60_000);
                    const wd = local.getUTCDay();
                    const sec = local.getUTCHours() * 3600 + local.getUTCMinutes() * 60 + local.getUTCSeconds();
                    if (w.startSec < w.endSec) return w.days.includes(wd) && sec >= w.startSec && sec < w.endSec;
                    return (w.days.includes(wd) && sec >= w.startSec) || (w.days.includes((wd + 6) % 7) && sec < w.endSec);
                };
                for (let i = 0; i < 150; i++) {
                    const t = Date.UTC(2026, 0, 1) + Math.floor(rand() * 365 * 86400) * 1000;
                    assert.equal(isOpen(w, new Date(t)), reference(t), `${spec.text} at ${new Date(t).toISOString()}`);
                    const o = nextOpening(w, new Date(t)).getTime();
                    assert.ok(o >= t && isOpen(w, new Date(o)));
                    if (o > t) {
                        assert.equal(
                            isOpen(w, new Date(o - 1000)),
                            false,
                            `${spec.text}: opens at ${new Date(o).toISOString()}, not earlier`,
                        );
                        for (let k = 1; k < 20; k++) assert.equal(reference(t + ((o - t) * k) / 20), false);
                    }
                }
            }
        });
    });

    describe("as a gate", () => {
        it("fails at once by default (final), naming when it opens; with wait it waits until the opening (injected clock)", async () => {
            const w = parseMaintenanceWindow("mon-fri 22:00-04:00 Europe/Berlin");
            const clock = new JumpClock(Date.parse("2026-12-02T20:00:00Z"));
            await assert.rejects(waitUntil(windowGate(w, { clock }), 3 * 3600_000, undefined, { clock }), (e: any) => {
                assert.equal(
                    e.message,
                    "blocked by maintenance window: outside the window (mon-fri 22:00–04:00 Europe/Berlin); it opens at 2026-12-02T22:00:00+01:00; run `pulumi up` again then",
                );
                return true;
            });
            const progress: string[] = [];
            const ok = await waitUntil(windowGate(w, { clock, wait: true }), 3 * 3600_000, (p) => progress.push(p.reason), {
                clock,
                pollMs: 60_000,
            });
            assert.match(ok.detail!, /^inside the window/);
            assert.equal(clock.now(), Date.parse("2026-12-02T21:00:00Z"), "slept until the opening (retryAt), not in 1-minute polls");
            assert.equal(progress.length, 1);
            // a deadline before the opening fails with the timeout
            const late = new JumpClock(Date.parse("2026-12-02T12:00:00Z"));
            await assert.rejects(waitUntil(windowGate(w, { clock: late, wait: true }), 3600_000, undefined, { clock: late }), (e: any) =>
                /^gave up after 1h0m0s waiting for maintenance window: outside the window/.test(e.message),
            );
        });
    });
});
