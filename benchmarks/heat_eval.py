"""Heat ladder on a simulated summer, and heating learned on real lcl-dev homes in winter.

One command: ``.venv/bin/python benchmarks/heat_eval.py`` (several minutes on 2 cores).
Results are printed and written to benchmarks/results/heat_eval.txt.

Summer: 200 simulated homes (core.meters.simulator with weather: air conditioners that answer
the day's temperature, seniors who some days leave them off, 15 % of homes without one)
from 20 April to 31 August 2026. The weather is a seeded Tokyo-like summer; each day's
forecast is *recorded* as JMA's forecast JSON (issued 05:00, integers, about ±1 °C off the
day's real maximum) and read back with core.weather.jma.parse_forecast; on 8 % of days the
feed is down (no forecast). From 1 July each home's profile is relearned every night from
its last 70 days (core.climate.profiles.learn_home), and the ladder's own decision
(core.climate.ladder.judge) runs at each meter cycle (:05 and :35) on the readings visible
then (60 minutes late), exactly as run_climate does.

Scored against the simulator's truth: a *hot day without cooling* is a day forecast hot where
someone was home in 10:00-13:00 and no cooling ran from 10:00 to 14:00; *caught* if the senior
was nudged by 14:00. An *unnecessary nudge* is one on a day the home's own cooling ran between
10:00 and 14:30 anyway. Everything is done twice: readings at 0.001 kWh and at 0.1 kWh
register steps.

Winter (real homes): lcl-dev has no temperatures, so months stand in for weather: January to
March and December are "cold", May, June and September "mild". Heating is learned on
January-February + May-June and checked on the 17:00-23:00 evenings of March and December
(should read "on" for homes learned as heating) and of September (should read "off").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.climate.ladder import BY_KIND, judge  # noqa: E402
from core.climate.profiles import learn_home, params  # noqa: E402
from core.detection import climate  # noqa: E402
from core.enums import IncidentKind  # noqa: E402
from core.meters.climate_sim import Weather  # noqa: E402
from core.meters.pull import available_until  # noqa: E402
from core.meters.simulator import simulate_detail  # noqa: E402
from core.settings import get_settings  # noqa: E402
from core.weather.jma import parse_forecast  # noqa: E402
from core.weather.store import DayWeather  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "heat_eval.txt"
LCL = ROOT.parent / "shared" / "data" / "lcl-dev" / "readings.csv.gz"
JST = 9 * 3600
FIRST, EVAL_FROM, LAST = date(2026, 4, 20), date(2026, 7, 1), date(2026, 8, 31)
MISSING_SHARE = 0.08
DEBUG = False


def summer(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A Tokyo-like spring and summer: daily max/min (°C), with warm and cool spells."""
    n = (LAST - FIRST).days + 1
    doy = np.arange(n)
    clim = 21.0 + 12.0 / (1 + np.exp(-(doy - 75) / 12.0))  # ~21 °C in late April to ~33 °C in August
    anomaly = np.zeros(n)
    for i in range(1, n):
        anomaly[i] = 0.75 * anomaly[i - 1] + rng.normal(0, 1.4)
    t_max = clim + anomaly
    return t_max, t_max - 7.5 + rng.normal(0, 0.8, n)


def recorded_forecast(day: date, t_max: float, t_min: float) -> list[dict]:
    """The day's 05:00 short-term report in JMA's shape (today's max, tomorrow's min and max)."""
    iso = day.isoformat()
    nxt = (day + timedelta(days=1)).isoformat()
    return [{"publishingOffice": "気象庁", "reportDatetime": f"{iso}T05:00:00+09:00", "timeSeries": [
        {"timeDefines": [f"{iso}T05:00:00+09:00"], "areas": [{"area": {"name": "東京地方", "code": "130010"},
                                                              "weathers": ["晴れ"]}]},
        {"timeDefines": [f"{iso}T09:00:00+09:00", f"{iso}T00:00:00+09:00", f"{nxt}T00:00:00+09:00",
                         f"{nxt}T09:00:00+09:00"],
         "areas": [{"area": {"name": "東京", "code": "44132"},
                    "temps": [f"{t_max:.0f}", f"{t_max:.0f}", f"{t_min:.0f}", f"{t_max:.0f}"]}]}]}]


def local_day_number(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def cycles(start: float, hours: float) -> list[tuple[int, int]]:
    """The meter cycles (:05 and :35) inside the trigger's window, as run_climate meets them."""
    return [(h, m) for h in range(int(start), int(start + hours) + 1) for m in (5, 35)
            if start <= h + m / 60 < start + hours]


def run_summer(homes: int, step: float | None, seed: int, first_home: int = 1) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    settings = get_settings()
    p = params()
    t_max, t_min = summer(rng)
    n_days = len(t_max)
    forecast_max = np.round(t_max + rng.normal(0, 1.0, n_days))
    forecast_min = np.round(t_min + rng.normal(0, 1.0, n_days))
    missing = rng.random(n_days) < MISSING_SHARE
    start = datetime(FIRST.year, FIRST.month, FIRST.day, tzinfo=UTC) - timedelta(hours=9)
    end = start + timedelta(days=n_days)
    weather = Weather(local_day_number(FIRST), t_max, t_min)
    seeds = np.arange(first_home, first_home + homes) * 7919
    sim = simulate_detail(seeds, start, end, weather=weather)
    kwh = sim.kwh.astype(float)
    if step:
        kwh = np.round(kwh / step) * step
    days = kwh.reshape(homes, n_days, 48)
    present = sim.present.reshape(homes, n_days, 48)
    assert sim.cooling is not None
    cooling = sim.cooling.reshape(homes, n_days, 48)
    recorded = {}
    for i in range(n_days):
        day = FIRST + timedelta(days=i)
        if not missing[i]:
            f = parse_forecast("130000", recorded_forecast(day, forecast_max[i], forecast_min[i]))
            recorded[i] = f.days.get(day)
    history = {FIRST + timedelta(days=i): ((v.t_max, v.t_min) if (v := recorded.get(i)) else (None, None))
               for i in range(n_days)}
    trigger = BY_KIND[IncidentKind.HEAT_RISK]
    cycle_times = cycles(trigger.check_hour(settings), trigger.check_hours)
    stats = {"hot_days_without_cooling": 0, "caught_by_14": 0, "caught_later": 0, "unnecessary": 0,
             "cooling_home_months": 0.0, "nudges": 0, "family": 0, "never_seen_homes": 0, "no_ac_homes": 0,
             "nudges_on_missing_days": 0, "unnecessary_already_on": 0, "missing_hot_days": 0, "no_ac_nudges": 0,
             "hot_days": 0}
    has_ac = np.zeros(homes, bool)
    cooled_ever = cooling.any(axis=(1, 2))
    stats["no_ac_homes"] = int((~cooled_ever).sum())
    never_seen: set[int] = set()
    cases: list = []
    eval_from = (EVAL_FROM - FIRST).days
    for i in range(eval_from, n_days):
        day = FIRST + timedelta(days=i)
        fc = recorded.get(i)
        w = None if fc is None or fc.t_max is None else DayWeather("130000", day, fc.t_max, fc.t_min, None, False)
        hot = forecast_max[i] >= settings.heat_day_max_c
        stats["hot_days"] += int(hot and w is not None)
        stats["missing_hot_days"] += int(hot and w is None)
        first = day - timedelta(days=70)
        for h in range(homes):
            profile = None
            if w is not None and hot:
                lo = (first - FIRST).days
                data = learn_home(days[h, max(lo, 0):i], max(first, FIRST), history, p)
                profile = climate.ClimateProfile.from_json(data["cooling"])
            nudged_at, seen_until = None, 0
            for hh, mm in cycle_times:
                now = datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC) - timedelta(hours=9)
                visible = int((available_until(now).timestamp() + JST) // 1800) - local_day_number(day) * 48
                today = days[h, i].copy()
                today[visible:] = np.nan
                decision, _ = judge(trigger, profile, today, w, hh + mm / 60, settings)
                if decision == "never_seen":
                    never_seen.add(h)
                    break
                if decision == "nudge":
                    nudged_at, seen_until = hh + mm / 60, visible
                    break
            if nudged_at is not None:
                stats["nudges"] += 1
                stats["nudges_on_missing_days"] += int(w is None)
                stats["no_ac_nudges"] += int(not cooled_ever[h])
                later = days[h, i, 28:min(48, 28 + 6)]  # 14:00-17:00: would the family be told?
                stats["family"] += int(profile is not None and not climate.check(profile, days[h, i], 28, 31, p).on
                                       and np.isfinite(later).all())
            if not hot or w is None:
                continue
            home_in_window = present[h, i, 20:26].sum() >= 2
            cooled = cooling[h, i, 20:28].any()
            if home_in_window and not cooled and cooled_ever[h]:
                stats["hot_days_without_cooling"] += 1
                stats["caught_by_14"] += int(nudged_at is not None and nudged_at <= 14.0)
                stats["caught_later"] += int(nudged_at is not None and nudged_at > 14.0)
            if nudged_at is not None and cooling[h, i, 20:29].any():
                stats["unnecessary"] += 1
                stats["unnecessary_already_on"] += int(cooling[h, i, 20:seen_until].any())
                cases.append((h, i, nudged_at, seen_until, np.flatnonzero(cooling[h, i]).tolist(),
                              np.round(days[h, i, 18:seen_until], 2).tolist()))
        has_ac |= cooling[:, i].any(axis=1)
    months = (n_days - eval_from) / 30.4
    stats["cooling_home_months"] = round(float(cooled_ever.sum()) * months, 1)
    stats["never_seen_homes"] = len(never_seen)
    if DEBUG:
        for c in cases[:20]:
            print("unnecessary", c)
    stats["never_seen_but_cool"] = len([h for h in never_seen if cooled_ever[h]])
    return stats


def run_winter(step: float | None) -> dict[str, float]:
    from core.detection.replay import load_readings

    arrays = load_readings(LCL)
    x = arrays.x.astype(float)
    n_days = x.shape[1] // 48
    x = x[:, : n_days * 48].reshape(len(arrays.meter_ids), n_days, 48)
    if step:
        x = np.round(x / step) * step
    first_day = (arrays.first_slot + 18) // 48
    months = np.array([(date(1970, 1, 1) + timedelta(days=int(first_day + d))).month for d in range(n_days)])
    cold, mild = np.isin(months, (1, 2, 3, 12)), np.isin(months, (5, 6, 9))
    t_min = np.where(cold, 0.0, np.where(mild, 12.0, np.nan))
    t_max = t_min + 7
    train = np.isin(months, (1, 2, 5, 6))
    out = {"homes": len(arrays.meter_ids), "heating_homes": 0, "cold_on": 0, "cold_evenings": 0, "mild_on": 0,
           "mild_evenings": 0, "unknown": 0}
    p = params()
    for h in range(len(arrays.meter_ids)):
        prof = climate.learn(x[h, train], t_max[train], t_min[train], "heating", p)
        if prof.seen is None:
            out["unknown"] += 1
            continue
        if not prof.seen:
            continue
        out["heating_homes"] += 1
        for d in np.flatnonzero(np.isin(months, (3, 12, 9))):
            if np.isfinite(x[h, d, 34:46]).sum() < 10:
                continue
            on = climate.check(prof, x[h, d], 34, 46, p).on
            if months[d] == 9:
                out["mild_evenings"] += 1
                out["mild_on"] += int(on)
            else:
                out["cold_evenings"] += 1
                out["cold_on"] += int(on)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--homes", type=int, default=200)
    ap.add_argument("--seed", type=int, default=17, help="the summer's weather (and forecast errors)")
    ap.add_argument("--first-home", type=int, default=1,
                    help="homes are simulator seeds first-home.. (tune on other homes than you score on)")
    ap.add_argument("--no-winter", action="store_true")
    ap.add_argument("--out", type=Path, default=OUT, help="where the results go")
    args = ap.parse_args()
    started = time.monotonic()
    lines = [f"heat_eval: {args.homes} simulated homes from #{args.first_home}, {EVAL_FROM}..{LAST}"
             f" (learning from {FIRST}), weather seed {args.seed}"]
    for label, step in (("0.001 kWh readings", None), ("0.1 kWh register steps", 0.1)):
        s = run_summer(args.homes, step, args.seed, args.first_home)
        caught = s["caught_by_14"] / max(s["hot_days_without_cooling"], 1)
        per_month = s["unnecessary"] / max(s["cooling_home_months"], 1e-9)
        lines += ["", f"Summer, {label}",
                  f"  hot days without cooling (someone home): {s['hot_days_without_cooling']}",
                  f"  nudged by 14:00: {s['caught_by_14']} ({100 * caught:.1f} %, target >= 90 %);"
                  f" later: {s['caught_later']}",
                  f"  unnecessary nudges: {s['unnecessary']} over {s['cooling_home_months']} home-months of homes"
                  f" that cool = {per_month:.2f} per home-month (target <= 1)",
                  f"  heat messages on days whose forecast was missing: {s['nudges_on_missing_days']}"
                  f" ({s['missing_hot_days']} hot days had no forecast; target 0)",
                  f"  all nudges {s['nudges']}, family told (no cooling 90 min later) <= {s['family']}",
                  f"  homes without air conditioning: {s['no_ac_homes']}; told once 'never seen cooling':"
                  f" {s['never_seen_homes']} (of which actually cool: {s['never_seen_but_cool']});"
                  f" nudges to homes without AC: {s['no_ac_nudges']}",
                  "  json " + json.dumps(s)]
        print("\n".join(lines[-8:]), flush=True)
    if not args.no_winter and LCL.exists():
        for label, step in (("lcl-dev as read", None), ("lcl-dev at 0.1 kWh steps", 0.1)):
            w = run_winter(step)
            lines += ["", f"Winter heating learned on real homes, {label}",
                      f"  homes {w['homes']}: learned as heating with electricity {w['heating_homes']},"
                      f" too little data {w['unknown']}",
                      f"  cold evenings (Mar, Dec) read as heating on: {w['cold_on']}/{w['cold_evenings']}"
                      f" ({100 * w['cold_on'] / max(w['cold_evenings'], 1):.1f} %)",
                      f"  mild evenings (Sep) read as heating on: {w['mild_on']}/{w['mild_evenings']}"
                      f" ({100 * w['mild_on'] / max(w['mild_evenings'], 1):.1f} %)"]
            print("\n".join(lines[-4:]), flush=True)
    lines += ["", f"took {time.monotonic() - started:.0f} s"]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(lines[-1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
