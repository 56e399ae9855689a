#!/usr/bin/env python3
"""Small synthetic input for scripts/batch_peer.py (tests only): units.json, municipalities.ndjson,
activities.ndjson and as-of.txt in the given directory. Covers duplicates, corrections, annulments
(also superseded by a later revision), sector changes, invalid/absent person ids, D-numbers, open
episodes (also starting after asOf), detox units, chained/nested/overlapping stays across institutions,
null and split municipalities, unknown condition codes and shuffled arrival order."""
import datetime as dt
import json
import os
import random
import sys

W1 = [3, 7, 6, 1, 8, 9, 4, 5, 2]
W2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]


def make_pid(birth, individual, dnum=False):
    dd = birth.day + (40 if dnum else 0)
    digits = [dd // 10, dd % 10, birth.month // 10, birth.month % 10, birth.year % 100 // 10, birth.year % 10,
              individual // 100, individual // 10 % 10, individual % 10]
    k1 = 11 - sum(a * b for a, b in zip(W1, digits)) % 11
    k1 = 0 if k1 == 11 else k1
    if k1 == 10:
        return None
    k2 = 11 - sum(a * b for a, b in zip(W2, digits + [k1])) % 11
    k2 = 0 if k2 == 11 else k2
    if k2 == 10:
        return None
    return "".join(map(str, digits + [k1, k2]))


def main():
    out = sys.argv[1]
    n_patients = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rnd = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    rhfs = ["sor-ost", "vest", "midt-norge", "nord"]
    units = []
    insts = ["974000001", "974000002", "974000003", "980000004"]
    for i in range(10):
        inst = insts[i % 4]
        units.append({"unitId": f"U{i}", "name": f"Unit {i}", "institutionId": inst, "institutionName": "I",
                      "hfId": "HF" + inst[-1] if i % 4 != 3 else inst, "hfName": "H",
                      "rhf": rhfs[int(inst[-1]) % 4], "ownership": "public" if i % 3 else rnd.choice(
                          ["free-choice", "private-purchase-agreement"]),
                      "detox": i in (2, 7), "validFrom": "2020-01-01"})
    json.dump(units, open(os.path.join(out, "units.json"), "w"))
    munis = [("0301", "sor-ost"), ("4601", "vest"), ("5001", "midt-norge"), ("1804", "nord"), ("3001", "sor-ost"),
             ("1507", None)]
    with open(os.path.join(out, "municipalities.ndjson"), "w") as f:
        for num, r in munis:
            f.write(json.dumps({"number": num, "rhf": r, "helsefellesskap": None if r is None else "X",
                                "split": r is None}) + "\n")
    as_of = dt.date(2024, 6, 15)
    open(os.path.join(out, "as-of.txt"), "w").write(as_of.isoformat() + "\n")
    records = []
    mid = 0
    codes = ["F102", "F112", "F12", "F13", "F141", "F15", "F192", "F17", "F630", "F32", "R45", "Z5030",
             "Z501", "A09", None, "F160"]

    def base_patient():
        birth = dt.date(rnd.randint(1960, 2010), rnd.randint(1, 12), rnd.randint(1, 28))
        if rnd.random() < 0.05:
            birth = dt.date(2004, 2, 29)
        kind = rnd.random()
        pid = None
        while pid is None:
            ind = rnd.randint(0, 499) if birth.year < 2000 else rnd.randint(500, 999)
            pid = make_pid(birth, ind, dnum=rnd.random() < 0.1)
        if kind < 0.08:
            pid = None
        elif kind < 0.14:
            pid = pid[:10] + str((int(pid[10]) + 1) % 10)  # bad check digit
        return {"personId": pid, "sex": rnd.choice([1, 2, 0, 9]), "birthDate": birth.isoformat(),
                "municipality": rnd.choice(["0301", "4601", "5001", "1804", "3001", "1507", None])}

    def ts(d, h=None):
        return d.isoformat() + "T%02d:%02d" % (rnd.randint(0, 23) if h is None else h, rnd.choice([0, 15, 30]))

    for p in range(n_patients):
        pat = base_patient()
        cursor = dt.date(2021, 9, 1) + dt.timedelta(days=rnd.randint(0, 900))
        for k in range(rnd.randint(1, 8)):
            u = rnd.choice(units)
            cl = rnd.choice([1, 1, 1, 2, 3, 3, 3, 8])
            start = cursor + dt.timedelta(days=rnd.choice([0, 0, 1, 1, 2, 5, 30]))
            if cl == 1:
                length = rnd.choice([0, 1, 3, 10, 40, 130])
                end = start + dt.timedelta(days=length)
                endv = None if rnd.random() < 0.07 else ts(end)
                startv = ts(start)
                if endv is not None and endv < startv:
                    endv = startv
                cursor = start if rnd.random() < 0.3 else end
            else:
                startv = ts(start)
                endv = startv
                cursor = start
            rec = {"status": "N", "revision": 1, "institutionId": u["institutionId"], "episodeId": f"E{p}-{k}",
                   "unitId": u["unitId"], "sector": "TSB" if rnd.random() < 0.95 else "PHV",
                   "patient": dict(pat, municipality=rnd.choice([pat["municipality"], pat["municipality"], None])),
                   "careLevel": cl, "start": startv, "end": endv,
                   "endType": rnd.choice([1, 2, 3, 4, 5, 6, None]) if cl == 1 and endv else None,
                   "contactType": rnd.choice([1, 2, 6, 7, None]), "activityPlace": rnd.choice([1, 2, 3, 4, 6, 9, None]),
                   "activityType": rnd.choice([1, 2, 4, None]),
                   "indirectActivity": rnd.choice([None, None, None, 22, 23, 71]),
                   "conditions": [] if rnd.random() < 0.05 else [c for c in [rnd.choice(codes), "F100"] if c],
                   "tariffs": [], "extraField": {"x": 1}}
            if rec["patient"]["personId"] is None:
                del rec["patient"]["personId"]
            versions = [rec]
            r = rnd.random()
            if r < 0.1:
                versions.append(dict(rec, status="M", revision=2, endType=rnd.choice([2, None, 1]) if cl == 1 else None,
                                     conditions=["F112"]))
            elif r < 0.15:
                versions.append(dict(rec, status="C", revision=2))
            elif r < 0.18:
                versions.append(dict(rec, status="C", revision=2))
                versions.append(dict(rec, status="M", revision=3, unitId=rec["unitId"]))
            elif r < 0.20:
                versions.append(dict(rec, status="M", revision=2, sector="SOM"))
            for v in versions:
                mid += 1
                v = dict(v, messageId=f"m{mid}")
                records.append(v)
                if rnd.random() < 0.05:
                    records.append(v)   # exact duplicate
    # an open episode starting after asOf
    records.append({"messageId": "late", "status": "N", "revision": 1, "institutionId": "974000001",
                    "episodeId": "LATE", "unitId": "U0", "sector": "TSB",
                    "patient": {"personId": make_pid(dt.date(1980, 5, 5), 123) or make_pid(dt.date(1980, 5, 5), 124),
                                "sex": 1, "municipality": "0301"},
                    "careLevel": 1, "start": "2024-07-01T10:00", "end": None, "conditions": ["F10"]})
    rnd.shuffle(records)
    with open(os.path.join(out, "activities.ndjson"), "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    print(f"{len(records)} records")


if __name__ == "__main__":
    main()
