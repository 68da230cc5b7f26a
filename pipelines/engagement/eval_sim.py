"""Simulator evaluation of claimscan's disengagement score against BG/NBD (lifetimes) and days
since last purchase, in one run on the same simulated partners and the same weekly as-of dates.

The simulator (`claimscan engagement synth --truth`) knows each partner's profile and churn day.
At every weekly as-of date each method scores the partners with a purchase before that date, and
flags its top `--flag-top` share (the same rule for every method). From the flags:

* detection lead time, for partners whose churn day falls inside the evaluated period: the first
  as-of date from `churn_day - horizon` on at which the partner is flagged, compared with the
  partner's last purchase (positive = flagged that many days before the last purchase) and with
  the churn day; median and quartiles over detected churners, plus the share detected at all;
* false alarms per 1,000 healthy partners: partners who never churn (and bought before the first
  as-of date) flagged at least once over the period, and flagged on an average as-of date.

Alert rules with memory (`--rules`), applied identically to every method:

* `none`: flagged when in the top share at this date;
* `confirmK` (e.g. `confirm4`): flagged when in the top share at this date and at the K-1
  weekly dates before it (the product's `confirm_days = 7 (K - 1)` with weekly scorings: the
  default `confirm_days = 21` is `confirm4`);
* `meanK` (e.g. `mean2`): the top share by the mean of the partner's last K weekly scores (those
  it has; a partner first scored this week uses this week's alone).
"""
import argparse
import contextlib
import io
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def bgnbd_expected(cal, as_of, horizon):
    """BG/NBD conditional expected purchases; retries with a small penalizer if the plain fit fails."""
    from lifetimes import BetaGeoFitter
    from lifetimes.utils import summary_data_from_transaction_data
    s = summary_data_from_transaction_data(cal, "partner_id", "d",
                                           observation_period_end=as_of - pd.Timedelta(days=1))
    last = None
    for pen in (0.0, 0.001, 0.01):
        try:
            bg = BetaGeoFitter(penalizer_coef=pen)
            with contextlib.redirect_stdout(io.StringIO()):  # lifetimes prints failed fits
                bg.fit(s["frequency"], s["recency"], s["T"])
            exp = bg.conditional_expected_number_of_purchases_up_to_time(
                horizon, s["frequency"], s["recency"], s["T"])
            exp = pd.Series(np.asarray(exp, dtype=float), index=s.index)
            if exp.notna().all():
                return exp, pen
        except Exception as e:  # lifetimes does fail to converge on some data
            last = e
    raise RuntimeError(f"BG/NBD failed at every penalizer: {last}")


def flag_top(scores, frac):
    """Ids of the top `frac` share by score (higher = more at risk), ties broken by id."""
    n = max(1, int(round(len(scores) * frac)))
    s = scores.sort_index(kind="stable")
    return set(s.sort_values(ascending=False, kind="stable").index[:n])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--partners", type=int, default=10000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--start", default="2023-01-01")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--first-as-of", default="2024-01-01")
    ap.add_argument("--weeks", type=int, default=39)
    ap.add_argument("--horizon", type=int, default=91)
    ap.add_argument("--flag-top", default="0.05,0.10")
    ap.add_argument("--rules", default="none,confirm2,confirm3,confirm4,mean2")
    a = ap.parse_args()
    rules = a.rules.split(",")

    events, truth_csv = f"{a.work}/sim.parquet", f"{a.work}/truth.csv"
    subprocess.run([a.bin, "engagement", "synth", "--out", events, "--partners", str(a.partners),
                    "--days", str(a.days), "--start", a.start, "--seed", str(a.seed),
                    "--truth", truth_csv], check=True)
    ev = pd.read_parquet(events)
    ev = ev[ev["kind"] == "purchase"]
    ev["d"] = pd.to_datetime(ev["occurred_at"]).dt.tz_localize(None).dt.normalize()
    truth = pd.read_csv(truth_csv).set_index("partner_id")
    truth["churn_day"] = pd.to_datetime(truth["churn_day"])
    last_purchase = ev.groupby("partner_id")["d"].max()

    first = pd.Timestamp(a.first_as_of)
    dates = [first + pd.Timedelta(weeks=w) for w in range(a.weeks)]
    end_data = pd.Timestamp(a.start) + pd.Timedelta(days=a.days)
    assert dates[-1] + pd.Timedelta(days=a.horizon) <= end_data, "as-of dates + horizon exceed the simulated period"
    fracs = [float(f) for f in a.flag_top.split(",")]
    methods = ["claimscan score", "BG/NBD expected purchases (lifetimes)", "days since last purchase"]
    print(f"simulator: {a.partners} partners, {len(ev)} purchases, {a.start} + {a.days} days, seed {a.seed}; "
          f"{len(dates)} weekly as-of dates {dates[0].date()}..{dates[-1].date()}, horizon {a.horizon} days")

    # per[method] = [score Series per as-of date]; pools = [alert pool ids per as-of date]
    history = {m: [] for m in methods}
    pools = []
    scored_counts, pool_sizes = [], []
    bg_fail, bg_pen, times = 0, {}, {m: 0.0 for m in methods}
    for as_of in dates:
        cal = ev[ev["d"] < as_of]
        ids = np.sort(cal["partner_id"].unique())
        scored_counts.append(len(ids))
        out = f"{a.work}/scores.csv"
        t = time.time()
        subprocess.run([a.bin, "engagement", "score", "--events", events, "--as-of", str(as_of.date()),
                        "--horizon-days", str(a.horizon), "--out", out, "--quiet"], check=True)
        times[methods[0]] += time.time() - t
        sc = pd.read_csv(out).set_index("partner_id")["score"]
        assert set(sc.index) == set(ids), f"{as_of.date()}: claimscan scored a different partner set"
        assert sc.notna().all() and sc.between(0, 1).all()
        per = {methods[0]: sc}
        t = time.time()
        try:
            exp, pen = bgnbd_expected(cal, as_of, a.horizon)
            bg_pen[pen] = bg_pen.get(pen, 0) + 1
            per[methods[1]] = -exp.reindex(ids)
        except RuntimeError as e:
            bg_fail += 1
            print(f"  {as_of.date()}: {e}")
        times[methods[1]] += time.time() - t
        per[methods[2]] = (as_of - cal.groupby("partner_id")["d"].max()).dt.days.reindex(ids).astype(float)
        # Alert pool: partners with a purchase in the last `horizon` days (those already lapsed
        # longer are no news); the same pool and the same share for every method.
        last = cal.groupby("partner_id")["d"].max()
        pool = last.index[(as_of - last).dt.days <= a.horizon]
        pool_sizes.append(len(pool))
        pools.append(pool)
        for m in methods:
            history[m].append(per.get(m))

    # flags[rule][method][frac] = {partner_id: [as-of dates flagged]}
    flags = {r: {m: {f: {} for f in fracs} for m in methods} for r in rules}
    for m in methods:
        for f in fracs:
            raws = []  # raw top-share flags per date (None: the method failed there)
            for i, as_of in enumerate(dates):
                s = history[m][i]
                raws.append(None if s is None else flag_top(s.reindex(pools[i]).dropna(), f))
                if s is None:
                    continue
                for r in rules:
                    k = int(r[len(r.rstrip("0123456789")):] or 1)
                    if r == "none":
                        got = raws[i]
                    elif r.startswith("confirm"):
                        # In the top share at this date and the k-1 dates before.
                        prev = raws[max(0, i - k + 1):i + 1]
                        got = set.intersection(*prev) if len(prev) == k and all(
                            x is not None for x in prev) else set()
                    elif r.startswith("mean"):
                        # Top share by the mean of the last k scores (those the partner has).
                        past = [x for x in history[m][max(0, i - k + 1):i + 1] if x is not None]
                        sm = pd.concat([x.reindex(s.index) for x in past], axis=1).mean(axis=1)
                        got = flag_top(sm.reindex(pools[i]).dropna(), f)
                    else:
                        raise SystemExit(f"unknown rule {r}")
                    for pid in got:
                        flags[r][m][f].setdefault(pid, []).append(as_of)

    # Churners whose churn day lies inside the period, with at least one purchase before it.
    ch = truth[truth["churn_day"].notna()].copy()
    ch["last"] = last_purchase.reindex(ch.index)
    ch = ch[(ch["churn_day"] >= dates[0]) & (ch["churn_day"] <= dates[-1]) & ch["last"].notna()
            & (ch["last"] < dates[-1])]
    healthy = truth[truth["churn_day"].isna()].index
    first_buy = ev.groupby("partner_id")["d"].min()
    healthy = [p for p in healthy if p in first_buy.index and first_buy[p] < dates[0]]
    print(f"evaluated churners (churn day in the period): {len(ch)}; healthy partners (never churn, "
          f"active before {dates[0].date()}): {len(healthy)}; partners scored per date "
          f"{min(scored_counts)}..{max(scored_counts)}, of them in the alert pool (purchase in the last "
          f"{a.horizon} days) {min(pool_sizes)}..{max(pool_sizes)}")
    print(f"BG/NBD: {len(dates) - bg_fail}/{len(dates)} dates fitted (penalizer used: {bg_pen}); "
          f"wall: " + ", ".join(f"{m.split(' ')[0]} {t:.0f}s" for m, t in times.items()))
    for r, f in [(r, f) for f in fracs for r in rules]:
        print(f"\nrule {r}: flag the top {f:.0%} of the alert pool at each weekly as-of date")
        print(f"  {'method':40s} {'detected':>8s} {'lead vs last purchase (d) q1/med/q3':>36s} "
              f"{'delay after churn (d) q1/med/q3':>32s} {'FA/1000 ever':>12s} {'FA/1000 per date':>16s}")
        for m in methods:
            fl = flags[r][m][f]
            leads, delays = [], []
            for pid, row in ch.iterrows():
                hit = [d for d in fl.get(pid, []) if d >= row["churn_day"] - pd.Timedelta(days=a.horizon)]
                if hit:
                    leads.append((row["last"] - hit[0]).days)
                    delays.append((hit[0] - row["churn_day"]).days)
            ever = sum(1 for p in healthy if p in fl)
            per_date = sum(len(fl.get(p, [])) for p in healthy) / len(dates)
            q = lambda v: "/".join(f"{x:.0f}" for x in np.percentile(v, [25, 50, 75])) if v else "-"
            print(f"  {m:40s} {len(leads) / max(1, len(ch)):8.1%} {q(leads):>36s} {q(delays):>32s} "
                  f"{1000 * ever / len(healthy):12.1f} {1000 * per_date / len(healthy):16.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
