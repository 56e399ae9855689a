#!/usr/bin/env python3
"""Slow pure-Python reference of scripts/batch_peer.py (tests only): the same rules written as plain
loops, to cross-check the SQL on small inputs. Usage: peer_reference.py DIR --out FILE [--as-of D]"""
import argparse
import collections
import csv
import datetime as dt
import json
import os

W1 = [3, 7, 6, 1, 8, 9, 4, 5, 2]
W2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]


def pid_birth(pid):
    if not pid or len(pid) != 11 or not pid.isdigit():
        return None
    d = [int(c) for c in pid]
    k1 = 11 - sum(a * b for a, b in zip(W1, d)) % 11
    k1 = 0 if k1 == 11 else k1
    if k1 == 10 or k1 != d[9]:
        return None
    k2 = 11 - sum(a * b for a, b in zip(W2, d[:9] + [k1])) % 11
    k2 = 0 if k2 == 11 else k2
    if k2 == 10 or k2 != d[10]:
        return None
    day, month, yy, ind = d[0] * 10 + d[1], d[2] * 10 + d[3], d[4] * 10 + d[5], d[6] * 100 + d[7] * 10 + d[8]
    if day > 40:
        day -= 40
    if month > 80:
        month -= 80
    elif month > 40:
        month -= 40
    if ind <= 499:
        c = 1900
    elif ind <= 749 and yy >= 54:
        c = 1800
    elif ind >= 500 and yy <= 39:
        c = 2000
    elif ind >= 900 and yy >= 40:
        c = 1900
    else:
        return None
    try:
        return dt.date(c + yy, month, day)
    except ValueError:
        return None


def age(b, d):
    return d.year - b.year - (1 if (d.month, d.day) < (b.month, b.day) else 0)


def group(c):
    if not c:
        return "mangler"
    if c.startswith("Z5030"):
        return "z5030"
    if c.startswith("F630"):
        return "f630"
    p = c[:3]
    if p in ("F10", "F11", "F12", "F13", "F14", "F15", "F19"):
        return p.lower()
    if p in ("F16", "F17", "F18"):
        return "f16-f18"
    return {"F": "annen-f", "R": "r", "Z": "annen-z"}.get(c[0], "andre")


def kind(e):
    if e["careLevel"] == 2:
        return "dagbehandling"
    if e.get("indirectActivity") in (22, 23):
        return "samarbeidsmote"
    if e.get("indirectActivity") == 71:
        return "telefonmote-forstelinje"
    if e.get("contactType") in (6, 7) or e.get("activityPlace") in (3, 6):
        return "tele-video"
    if e.get("activityPlace") in (2, 4, 5, 9):
        return "ambulant"
    return "oppmote"


def periods_of(d):
    return [str(d.year), f"{d.year}-T{(d.month - 1) // 4 + 1}"]


def tertial_bounds(y, t):
    first = dt.date(y, (t - 1) * 4 + 1, 1)
    last = (dt.date(y + 1, 1, 1) if t == 3 else dt.date(y, t * 4 + 1, 1)) - dt.timedelta(days=1)
    return first, last


def span_periods(first, last):
    out = []
    for y in range(first.year, last.year + 1):
        out.append((str(y), dt.date(y, 1, 1), dt.date(y, 12, 31)))
        for t in (1, 2, 3):
            a, b = tertial_bounds(y, t)
            if a <= last and b >= first:
                out.append((f"{y}-T{t}", a, b))
    return out


def stays(eps, key_of):
    """Chains (lists of episodes) by the linking rule within groups given by key_of."""
    groups = collections.defaultdict(list)
    for e in eps:
        groups[key_of(e)].append(e)
    result = []
    for g in groups.values():
        g.sort(key=lambda e: (e["start"], e["institutionId"], e["episodeId"]))
        cur, latest, open_ = [], None, False
        for e in g:
            sd = dt.date.fromisoformat(e["start"][:10])
            if cur and (open_ or sd <= latest + dt.timedelta(days=1)):
                pass
            else:
                if cur:
                    result.append(cur)
                cur, latest, open_ = [], None, False
            cur.append(e)
            if e["end"] is None:
                open_ = True
            else:
                ed = dt.date.fromisoformat(e["end"][:10])
                latest = ed if latest is None else max(latest, ed)
        if cur:
            result.append(cur)
    return result


def last_of(chain):
    return max(chain, key=lambda e: (e["end"] is None, e["end"] or "", e["start"], e["institutionId"], e["episodeId"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("directory")
    ap.add_argument("--out", required=True)
    ap.add_argument("--as-of")
    a = ap.parse_args()
    as_of = dt.date.fromisoformat(a.as_of or open(os.path.join(a.directory, "as-of.txt")).read().strip())
    units = {u["unitId"]: u for u in json.load(open(os.path.join(a.directory, "units.json")))}
    munis = {}
    for line in open(os.path.join(a.directory, "municipalities.ndjson")):
        m = json.loads(line)
        munis[m["number"]] = None if m.get("split") else m.get("rhf")
    best = {}
    for line in open(os.path.join(a.directory, "activities.ndjson")):
        r = json.loads(line)
        k = (r["institutionId"], r["episodeId"])
        rank = (r["revision"], r["status"] == "C")
        if k not in best or rank > best[k][0]:
            best[k] = (rank, r)
    eps = []
    for _, r in best.values():
        if r["status"] == "C" or r["sector"] != "TSB":
            continue
        p = r["patient"]
        b = pid_birth(p.get("personId"))
        e = dict(r)
        e["pkey"] = p["personId"] if b else None
        e["bucket"] = e["pkey"] or ("anon", r["institutionId"], r["episodeId"])
        e["birth"] = b or dt.date.fromisoformat(p["birthDate"])
        u = units.get(r["unitId"])
        e["unit"] = u
        e["priv"] = bool(u) and u["ownership"] != "public"
        e["brhf"] = (u["rhf"] if u else None) if p.get("municipality") is None else munis.get(p["municipality"])
        conds = r.get("conditions") or []
        e["grp"] = group(conds[0] if conds else None)
        eps.append(e)

    cnt = collections.defaultdict(int)          # (ind, measure, period, level, unit) -> num
    den = collections.defaultdict(int)
    pats = collections.defaultdict(set)
    share = set()

    def places(e):
        return [("national", "NO")] + ([("bosted-rhf", e["brhf"])] if e["brhf"] else [])

    NK = "tsb-nokkeltall"
    for e in eps:
        sd = dt.date.fromisoformat(e["start"][:10])
        if e["careLevel"] == 1:
            last = dt.date.fromisoformat(e["end"][:10]) if e["end"] else max(as_of, sd)
            for per, pf, pl in span_periods(sd, last):
                nights = max(0, (min(last, pl) - max(sd + dt.timedelta(days=1), pf)).days + 1)
                for lv, un in places(e):
                    if e["pkey"]:
                        pats[(NK, "pasienter", per, lv, un)].add(e["pkey"])
                        pats[(NK, "dognpasienter", per, lv, un)].add(e["pkey"])
                        pats[(NK, f"diagnose-{e['grp']}-pasienter", per, lv, un)].add(e["pkey"])
                    if nights:
                        cnt[(NK, "oppholdsdogn", per, lv, un)] += nights
                        cnt[(NK, f"diagnose-{e['grp']}-oppholdsdogn", per, lv, un)] += nights
                        k = (NK, "privat-andel-oppholdsdogn", per, lv, un)
                        share.add(k)
                        cnt[k] += nights if e["priv"] else 0
                        den[k] += nights
        else:
            for per in periods_of(sd):
                for lv, un in places(e):
                    if e["pkey"]:
                        pats[(NK, "pasienter", per, lv, un)].add(e["pkey"])
                        pats[(NK, f"diagnose-{e['grp']}-pasienter", per, lv, un)].add(e["pkey"])
                    for m in ("polikliniske-kontakter", "kontakter-" + kind(e), f"diagnose-{e['grp']}-kontakter"):
                        cnt[(NK, m, per, lv, un)] += 1
                    for m, hit in (("lar-andel", e["grp"] == "z5030"), ("privat-andel-kontakter", e["priv"])):
                        k = (NK, m, per, lv, un)
                        share.add(k)
                        cnt[k] += 1 if hit else 0
                        den[k] += 1
    inpatient = [e for e in eps if e["careLevel"] == 1]
    for chain in stays(inpatient, lambda e: (e["bucket"], e["institutionId"])):
        l = last_of(chain)
        if l["end"] is None:
            continue
        ed = dt.date.fromisoformat(l["end"][:10])
        for per in periods_of(ed):
            for lv, un in places(l):
                cnt[(NK, "dognopphold", per, lv, un)] += 1
                cnt[(NK, f"diagnose-{l['grp']}-dognopphold", per, lv, un)] += 1
                k = (NK, "privat-andel-dognopphold", per, lv, un)
                share.add(k)
                cnt[k] += 1 if l["priv"] else 0
                den[k] += 1
    treat = [e for e in inpatient if not (e["unit"] and e["unit"]["detox"])]
    for chain in stays(treat, lambda e: e["bucket"]):
        l = last_of(chain)
        if l["end"] is None:
            continue
        ed = dt.date.fromisoformat(l["end"][:10])
        ag = age(l["birth"], ed)
        u = l["unit"]
        pl = [("national", "NO")] + ([("rhf", u["rhf"]), ("hf", u["hfId"]), ("unit", u["unitId"])] if u else [])
        for per in periods_of(ed):
            for lv, un in pl:
                for m, lo, hi, hit in (("hovedmaltall", 18, 999, l.get("endType") in (2, 3, 4)),
                                       ("maltall-2", 18, 999, l.get("endType") is None),
                                       ("maltall-3", 18, 22, l.get("endType") in (2, 3, 4)),
                                       ("maltall-4", 18, 29, l.get("endType") in (2, 3, 4))):
                    if lo <= ag <= hi:
                        k = ("tsb-avbrudd", m, per, lv, un)
                        share.add(k)
                        cnt[k] += 1 if hit else 0
                        den[k] += 1
    rows = []
    for k, s in pats.items():
        if s:
            rows.append(k + ("all", len(s), ""))
    for k in set(cnt) | share:
        if k in share:
            if den[k] > 0:
                rows.append(k + ("all", cnt[k], den[k]))
        elif cnt[k] > 0:
            rows.append(k + ("all", cnt[k], ""))
    rows.sort(key=lambda r: tuple(str(x) for x in r[:6]))
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["indicator", "measure", "period", "level", "unit", "sex", "numerator", "denominator"])
        w.writerows(rows)
    print(len(rows), "cells")


if __name__ == "__main__":
    main()
