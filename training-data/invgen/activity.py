"""Partner activity simulator (for the engagement / disengagement work).

Each partner gets a daily engagement curve from one pattern (regular, seasonal, growing, drifting) and, for
'disengaging' partners, a decay that starts at a known onset date (logins and message opens start fading
~2 weeks before purchases do: a leading signal). Events are Poisson draws from the curves, vectorised with
numpy per chunk of partners and streamed to CSV (and optionally Parquet) with pyarrow.

Output: activity.csv  partner_id,occurred_at,kind,quantity,amount   (sorted by partner_id, occurred_at)
        activity_truth.csv partner_id,pattern,base_pattern,onset_date,segment,marketing_consent
"""
import datetime as dt
import os

import numpy as np

PATTERNS = ["regular", "seasonal", "growing", "drifting", "disengaging"]
PATTERN_P = [0.35, 0.2, 0.15, 0.12, 0.18]
SEGMENTS = ["small", "medium", "large"]
KINDS = ["purchase", "claim", "login", "message_opened", "challenge_joined", "challenge_completed"]


def _curves(rng, n, days, start):
    """Return (engagement curve n x days, pattern idx, base pattern idx, onset day or -1, segment idx)."""
    d = np.arange(days, dtype=np.float32)[None, :]
    pat = rng.choice(len(PATTERNS), size=n, p=PATTERN_P)
    base = np.where(pat == 4, rng.choice(4, size=n, p=[0.5, 0.25, 0.15, 0.10]), pat)
    curve = np.ones((n, days), np.float32)
    # seasonal: heating season peak (around day-of-year ~ 300), amplitude 0.3-0.9
    doy0 = start.timetuple().tm_yday
    amp = rng.uniform(0.3, 0.9, n).astype(np.float32)[:, None]
    phase = rng.uniform(-25, 25, n).astype(np.float32)[:, None]
    seas = 1 + amp * np.cos(2 * np.pi * (d + doy0 - 300 - phase) / 365.0)
    curve = np.where((base == 1)[:, None], seas, curve)
    g = rng.uniform(0.5, 2.5, n).astype(np.float32)[:, None]
    curve = np.where((base == 2)[:, None], 1 + g * d / days, curve)
    walk = np.cumsum(rng.standard_normal((n, days), dtype=np.float32) * 0.04, axis=1)
    drift = rng.uniform(-1.2, 1.2, n).astype(np.float32)[:, None] * d / days
    curve = np.where((base == 3)[:, None], np.exp(np.clip(walk + drift, -3, 2)), curve)
    onset = np.where(pat == 4, rng.integers(120, max(121, days - 45), n), -1)
    tau = rng.uniform(7, 60, n).astype(np.float32)[:, None]
    floor = rng.uniform(0.0, 0.12, n).astype(np.float32)[:, None]
    after = np.clip(d - onset[:, None], 0, None)
    decay = np.where((onset >= 0)[:, None] & (d >= onset[:, None]), floor + (1 - floor) * np.exp(-after / tau), 1.0).astype(np.float32)
    lead = np.clip(d - (onset[:, None] - 14), 0, None)
    decay_lead = np.where((onset >= 0)[:, None] & (d >= onset[:, None] - 14), floor + (1 - floor) * np.exp(-lead / tau), 1.0).astype(np.float32)
    seg = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    return curve, decay, decay_lead, pat, base, onset, seg


def _expand(rng, counts, day0_epoch, hour_lo, hour_hi):
    p, d = np.nonzero(counts)
    c = counts[p, d]
    p = np.repeat(p, c)
    d = np.repeat(d, c)
    secs = rng.integers(hour_lo * 3600, hour_hi * 3600, p.shape[0])
    return p, day0_epoch + d.astype(np.int64) * 86400 + secs


def simulate(outdir, n_partners, days=730, start="2023-01-01", seed=1, parquet=False, chunk=20000):
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    os.makedirs(outdir, exist_ok=True)
    start_d = dt.date.fromisoformat(start)
    epoch0 = int(dt.datetime(start_d.year, start_d.month, start_d.day, tzinfo=dt.timezone.utc).timestamp())
    weekday = np.array([(start_d + dt.timedelta(days=i)).weekday() for i in range(days)])
    wk = np.where(weekday < 5, 1.0, 0.12).astype(np.float32)[None, :]
    schema = pa.schema([("partner_id", pa.string()), ("occurred_at", pa.string()), ("kind", pa.string()),
                        ("quantity", pa.int32()), ("amount", pa.float64())])
    csv_path = os.path.join(outdir, "activity.csv")
    opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
    csv_fh = open(csv_path, "wb")
    csv_fh.write(b"partner_id,occurred_at,kind,quantity,amount\n")
    writer = pacsv.CSVWriter(csv_fh, schema, write_options=opts)
    pq_writer = None
    if parquet:
        import pyarrow.parquet as pq
        pq_writer = pq.ParquetWriter(os.path.join(outdir, "activity.parquet"), schema, compression="zstd")
    truth = open(os.path.join(outdir, "activity_truth.csv"), "w", encoding="utf-8")
    truth.write("partner_id,pattern,base_pattern,onset_date,segment,marketing_consent\n")
    total = 0
    kinds_arr = pa.array(KINDS)
    for c0 in range(0, n_partners, chunk):
        n = min(chunk, n_partners - c0)
        rng = np.random.default_rng([seed, c0])
        curve, decay, decay_lead, pat, base, onset, seg = _curves(rng, n, days, start_d)
        size = np.array([1.0, 2.5, 6.0], np.float32)[seg][:, None]
        lam = rng.lognormal(np.log(0.045), 0.5, n).astype(np.float32)[:, None] * size
        consent = rng.random(n) < 0.7
        buy_rate = lam * curve * decay * wk
        purchases = rng.poisson(buy_rate)
        login_rate = rng.uniform(0.02, 0.2, n).astype(np.float32)[:, None] * np.sqrt(curve) * decay_lead
        logins = rng.poisson(login_rate)
        msg_day = (np.arange(days) % 7 == 1).astype(np.float32)[None, :]  # weekly newsletter on Tuesdays
        open_p = rng.uniform(0.1, 0.8, n).astype(np.float32)[:, None] * consent[:, None]
        msgs = rng.binomial(1, np.clip(open_p * msg_day * decay_lead, 0, 1))
        ch_day = (np.arange(days) % 30 == 3).astype(np.float32)[None, :]  # a challenge every 30 days
        join_p = rng.uniform(0.05, 0.6, n).astype(np.float32)[:, None]
        joins = rng.binomial(1, np.clip(join_p * ch_day * decay_lead, 0, 1))
        parts = []
        # purchases
        p, t = _expand(rng, purchases, epoch0, 6, 19)
        q = (1 + rng.poisson(3, p.shape[0])).astype(np.int32)
        unit = np.round(rng.lognormal(3.6, 0.9, p.shape[0]), 2)
        amt = np.round(q * unit, 2)
        parts.append((p, t, np.zeros(p.shape[0], np.int8), q, amt))
        # claims: a share of purchases is claimed 0-20 days later (points = amount/10)
        claimed = rng.random(p.shape[0]) < rng.uniform(0.3, 0.95, n)[p]
        lag = rng.integers(3600, 20 * 86400, p.shape[0])
        tc = t + lag
        keep = claimed & (tc < epoch0 + days * 86400)
        parts.append((p[keep], tc[keep], np.ones(keep.sum(), np.int8), q[keep], np.floor(amt[keep] / 10.0)))
        for k, mat, lo, hi in ((2, logins, 7, 23), (3, msgs, 8, 22), (4, joins, 8, 21)):
            pp, tt = _expand(rng, mat, epoch0, lo, hi)
            parts.append((pp, tt, np.full(pp.shape[0], k, np.int8), None, None))
            if k == 4:
                done = rng.random(pp.shape[0]) < 0.45
                td = tt + rng.integers(86400, 25 * 86400, pp.shape[0])
                keep = done & (td < epoch0 + days * 86400)
                parts.append((pp[keep], td[keep], np.full(keep.sum(), 5, np.int8), None, None))
        P = np.concatenate([x[0] for x in parts])
        T = np.concatenate([x[1] for x in parts])
        K = np.concatenate([x[2] for x in parts])
        Q = pa.array(np.concatenate([x[3] if x[3] is not None else np.zeros(len(x[0]), np.int32) for x in parts]),
                     mask=np.concatenate([np.zeros(len(x[0]), bool) if x[3] is not None else np.ones(len(x[0]), bool) for x in parts]))
        A = pa.array(np.concatenate([x[4] if x[4] is not None else np.zeros(len(x[0])) for x in parts]),
                     mask=np.concatenate([np.zeros(len(x[0]), bool) if x[4] is not None else np.ones(len(x[0]), bool) for x in parts]))
        order = np.lexsort((K, T, P))
        ids = pa.array([f"P{c0 + i + 1:07d}" for i in range(n)])
        ts = pc.strftime(pa.array(T[order].astype("datetime64[s]"), pa.timestamp("s", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ")
        table = pa.table({"partner_id": pc.take(ids, pa.array(P[order])), "occurred_at": ts, "kind": pc.take(kinds_arr, pa.array(K[order])),
                          "quantity": pc.take(Q, pa.array(order)), "amount": pc.take(A, pa.array(order))}, schema=schema)
        writer.write_table(table)
        if pq_writer:
            pq_writer.write_table(table)
        total += table.num_rows
        for i in range(n):
            od = (start_d + dt.timedelta(days=int(onset[i]))).isoformat() if onset[i] >= 0 else ""
            truth.write(f"P{c0 + i + 1:07d},{PATTERNS[pat[i]]},{PATTERNS[base[i]]},{od},{SEGMENTS[seg[i]]},{'true' if consent[i] else 'false'}\n")
    writer.close()
    csv_fh.close()
    if pq_writer:
        pq_writer.close()
    truth.close()
    return total
