#!/usr/bin/env python3
"""Batch peer: tsb-avbrudd (indicators.md §1) and tsb-nokkeltall (§3) from scratch, in DuckDB SQL.

The "batch engine" the streaming calculator is benchmarked and cross-checked against. It reads what the
stream benchmark wrote into one directory and computes every cell that exists (no suppression):

    units.json               JSON array of Unit records (messages.md §4)
    municipalities.ndjson    {"number","rhf","helsefellesskap","split"} per known municipality number
    activities.ndjson        ActivityMessage v1 records in arrival order (duplicates, corrections,
                             annulments included)

Usage:
    python3 scripts/batch_peer.py DIR --as-of YYYY-MM-DD --out cells.csv [--threads N]

(`--as-of` defaults to DIR/as-of.txt when that file exists.) Writes the CSV
`indicator,measure,period,level,unit,sex,numerator,denominator` (denominator empty for counts), sorted,
and prints one JSON line `{"seconds": …, "cells": …, "activities": …}`; `seconds` is the wall time of
loading and computing (after Python and DuckDB are imported).

The rules are implemented from the spec (indicators.md common rules, §1, §3 and the settled decisions;
messages.md §1 person id, revisions and annulments, §5 age) and, where the spec is silent, follow the
project's written decisions (docs/decisions.md, the numbered decisions in
Shared/IndicatorCalculation/Measures.swift):

* Episode identity (institutionId, episodeId): only the highest revision counts; an annulment at
  revision r removes every version <= r (so an annulment wins a tie at the top revision). Only the
  current version's sector decides (a correction to a non-TSB sector removes the episode).
* Person id valid = 11 digits, both mod-11 check digits right, a real birth date derivable (D-number
  day + 40, H-number month + 40, synthetic month + 80, century from the individual number). Without
  a valid id the episode has no pseudonym: a patient bucket of its own, no linking, left out of every
  distinct-patient count; its age comes from patient.birthDate.
* Stays (§1 treatment stays, §3 institution stays): gaps-and-islands over the patient's TSB inpatient
  episodes ordered by (start, institutionId, episodeId); an episode joins when its start DATE is at
  most one day after the running maximum end DATE of the earlier episodes (open = infinite). Last
  episode: latest end (open latest), then later start, higher institutionId, higher episodeId.
  Treatment stays exclude units with detox = true (a unit missing from the register is not detox);
  institution stays chain only within one institutionId and keep detox units.
* Only closed stays count, in the year and tertial of their end date.
* Inpatient span: start date .. end date, open: the evaluation date (an open episode starting after
  asOf spans only its start date); it overlaps every year and tertial it touches; its bed days in a
  period are the days x with start < x <= last inside the period (a midnight belongs to the next day).
* Other episodes (careLevel 2, 3, 8 = contacts) belong to the year and tertial of their start date.
* Bosted region: RHF of the municipality (split old numbers: none); null municipality: the unit's RHF
  (unknown unit: none). Institution stays take region, unit (ownership) and main condition from their
  last episode. Avbrudd levels rhf/hf/unit come from the stay's (last episode's) unit, when registered.
* A cell exists when some record contributes something non-zero: counts > 0, shares with denominator > 0.
"""
import argparse
import datetime as dt
import json
import os
import sys
import time

import duckdb

UNIT_COLUMNS = {
    "unitId": "VARCHAR", "name": "VARCHAR", "institutionId": "VARCHAR", "hfId": "VARCHAR",
    "rhf": "VARCHAR", "ownership": "VARCHAR", "detox": "BOOLEAN", "validFrom": "VARCHAR",
}
MUNICIPALITY_COLUMNS = {"number": "VARCHAR", "rhf": "VARCHAR", "helsefellesskap": "VARCHAR", "split": "BOOLEAN"}
ACTIVITY_COLUMNS = {
    "status": "VARCHAR", "revision": "BIGINT", "institutionId": "VARCHAR", "episodeId": "VARCHAR",
    "unitId": "VARCHAR", "sector": "VARCHAR",
    "patient": "STRUCT(personId VARCHAR, birthDate VARCHAR, municipality VARCHAR)",
    "careLevel": "INTEGER", "start": "VARCHAR", "end": "VARCHAR", "endType": "INTEGER",
    "contactType": "INTEGER", "activityPlace": "INTEGER", "indirectActivity": "INTEGER",
    "conditions": "VARCHAR[]",
}


def duck_columns(columns):
    return "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def person_id_sql():
    """SQL over table `pid_raw(pid)` → pid, birth date (NULL when the id is not valid)."""
    digits = ", ".join(f"ascii(substr(pid, {i}, 1)) - 48 AS d{i}" for i in range(1, 12))
    s1 = " + ".join(f"{w} * d{i}" for i, w in enumerate([3, 7, 6, 1, 8, 9, 4, 5, 2], 1))
    s2 = " + ".join(f"{w} * d{i}" for i, w in enumerate([5, 4, 3, 2, 7, 6, 5, 4, 3], 1)) + " + 2 * k1"
    return f"""
    WITH d AS (
        SELECT pid, {digits} FROM pid_raw WHERE regexp_full_match(pid, '[0-9]{{11}}')
    ), r1 AS (
        SELECT *, (11 - ({s1}) % 11) % 11 AS k1 FROM d          -- 11 becomes 0; 10 is invalid
    ), r2 AS (
        SELECT *, (11 - ({s2}) % 11) % 11 AS k2 FROM r1 WHERE k1 <> 10 AND k1 = d10
    ), b AS (
        SELECT pid,
               CASE WHEN d1 >= 4 THEN (d1 - 4) * 10 + d2 ELSE d1 * 10 + d2 END AS day,     -- D-number
               CASE WHEN d3 * 10 + d4 > 80 THEN d3 * 10 + d4 - 80                         -- synthetic
                    WHEN d3 * 10 + d4 > 40 THEN d3 * 10 + d4 - 40                         -- H-number
                    ELSE d3 * 10 + d4 END AS month,
               d5 * 10 + d6 AS yy, d7 * 100 + d8 * 10 + d9 AS ind
        FROM r2 WHERE k2 <> 10 AND k2 = d11
    ), c AS (
        SELECT pid, day, month,
               CASE WHEN ind <= 499 THEN 1900
                    WHEN ind <= 749 AND yy >= 54 THEN 1800
                    WHEN ind >= 500 AND yy <= 39 THEN 2000
                    WHEN ind >= 900 AND yy >= 40 THEN 1900
               END + yy AS year
        FROM b
    )
    SELECT pid, CAST(try_strptime(printf('%04d-%02d-%02d', year, month, day), '%Y-%m-%d') AS DATE) AS pid_birth
    FROM c
    WHERE year IS NOT NULL AND day BETWEEN 1 AND 31 AND month BETWEEN 1 AND 12
    """


def age_sql(birth, on):
    return (f"(year({on}) - year({birth}) - CASE WHEN month({on}) * 100 + day({on}) "
            f"< month({birth}) * 100 + day({birth}) THEN 1 ELSE 0 END)")


GROUP_SQL = """CASE
    WHEN c IS NULL OR c = '' THEN 'mangler'
    WHEN starts_with(c, 'Z5030') THEN 'z5030'
    WHEN starts_with(c, 'F630') THEN 'f630'
    WHEN substr(c, 1, 3) IN ('F10', 'F11', 'F12', 'F13', 'F14', 'F15', 'F19') THEN lower(substr(c, 1, 3))
    WHEN substr(c, 1, 3) IN ('F16', 'F17', 'F18') THEN 'f16-f18'
    WHEN starts_with(c, 'F') THEN 'annen-f'
    WHEN starts_with(c, 'R') THEN 'r'
    WHEN starts_with(c, 'Z') THEN 'annen-z'
    ELSE 'andre' END"""

KIND_SQL = """CASE
    WHEN careLevel = 2 THEN 'dagbehandling'
    WHEN indirectActivity IN (22, 23) THEN 'samarbeidsmote'
    WHEN indirectActivity = 71 THEN 'telefonmote-forstelinje'
    WHEN contactType IN (6, 7) OR activityPlace IN (3, 6) THEN 'tele-video'
    WHEN activityPlace IN (2, 4, 5, 9) THEN 'ambulant'
    ELSE 'oppmote' END"""



def bosted_places(source):
    """Rows of `source` (with a bosted region `brhf`) at their places: national always, bosted-rhf
    where the region is known."""
    return f"""(SELECT 'national' AS level, 'NO' AS unit, * FROM {source}
        UNION ALL SELECT 'bosted-rhf' AS level, brhf AS unit, * FROM {source} WHERE brhf IS NOT NULL)"""


# GROUPING SETS with and without `brhf`: the national rows roll up every region (also none); the
# regional rows keep known regions only.
LEVEL_OF_GROUPING = "CASE WHEN grouping(brhf) = 1 THEN 'national' ELSE 'bosted-rhf' END"
UNIT_OF_GROUPING = "CASE WHEN grouping(brhf) = 1 THEN 'NO' ELSE brhf END"
KEEP_GROUPING = "grouping(brhf) = 1 OR brhf IS NOT NULL"


def periods_of(date):
    """The year and the tertial containing `date`, as a list to unnest."""
    return f"[CAST(year({date}) AS VARCHAR), year({date}) || '-T' || ((month({date}) - 1) // 4 + 1)]"


def stays_sql(source, partition):
    """Gaps-and-islands stays over `source` (inpatient episodes), chained within `partition`; returns
    the last episode of every closed stay."""
    order = "s, inst, epi"
    return f"""
    WITH m AS (
        SELECT *, max(coalesce(ed, DATE '9999-12-31')) OVER (
                   PARTITION BY {partition} ORDER BY {order}
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
        FROM {source}
    ), f AS (
        SELECT *, sum(CASE WHEN prev_end IS NULL OR sd > prev_end + 1 THEN 1 ELSE 0 END) OVER (
                   PARTITION BY {partition} ORDER BY {order} ROWS UNBOUNDED PRECEDING) AS stay_no
        FROM m
    )
    SELECT * FROM f
    QUALIFY row_number() OVER (PARTITION BY {partition}, stay_no
                               ORDER BY coalesce(en, '9999-99-99T99:99') DESC, s DESC, inst DESC, epi DESC) = 1
    """


def compute(con, directory, as_of):
    asof = f"DATE '{as_of.isoformat()}'"
    units_path = sql_str(os.path.join(directory, "units.json"))
    muni_path = sql_str(os.path.join(directory, "municipalities.ndjson"))
    act_path = sql_str(os.path.join(directory, "activities.ndjson"))

    con.execute(f"""
    CREATE TEMP TABLE units AS
    SELECT * EXCLUDE (ord) FROM (
        SELECT *, row_number() OVER () AS ord
        FROM read_json({units_path}, format = 'array', columns = {duck_columns(UNIT_COLUMNS)}))
    QUALIFY row_number() OVER (PARTITION BY unitId ORDER BY ord DESC) = 1""")   # upsert: last wins
    con.execute(f"""
    CREATE TEMP TABLE munis AS
    SELECT number, CASE WHEN split THEN NULL ELSE rhf END AS rhf
    FROM read_json({muni_path}, format = 'newline_delimited', columns = {duck_columns(MUNICIPALITY_COLUMNS)})""")

    # Activity lines, flattened to what the rules read (one pass of the JSON reader).
    con.execute(f"""
    CREATE TEMP TABLE raw AS
    SELECT status, revision, institutionId AS inst, episodeId AS epi, unitId, sector,
           patient.personId AS pid, patient.birthDate AS bd, patient.municipality AS muni,
           careLevel, start AS s, "end" AS en, endType, contactType, activityPlace, indirectActivity,
           conditions[1] AS c
    FROM read_json({act_path}, format = 'newline_delimited', columns = {duck_columns(ACTIVITY_COLUMNS)})""")
    activities = con.execute("SELECT count(*) FROM raw").fetchone()[0]

    # The current version per episode: highest revision, an annulment winning its revision (rank =
    # 2 * revision + annulment). Most episodes have a single line; only those with several are ranked.
    con.execute("""
    CREATE TEMP TABLE multi AS
    SELECT inst, epi, max(revision * 2 + CASE WHEN status = 'C' THEN 1 ELSE 0 END) AS top
    FROM raw GROUP BY inst, epi HAVING count(*) > 1""")
    con.execute("""
    CREATE TEMP VIEW cur AS
    SELECT * FROM raw r ANTI JOIN multi m USING (inst, epi)
    UNION ALL
    SELECT * FROM (
        SELECT r.* FROM raw r JOIN multi m
          ON r.inst = m.inst AND r.epi = m.epi
         AND r.revision * 2 + CASE WHEN r.status = 'C' THEN 1 ELSE 0 END = m.top
        QUALIFY row_number() OVER (PARTITION BY r.inst, r.epi) = 1)   -- resends of the same version""")

    con.execute("CREATE TEMP TABLE pid_raw AS SELECT DISTINCT pid FROM raw WHERE pid IS NOT NULL")
    con.execute("CREATE TEMP TABLE pids AS " + person_id_sql())

    # The current TSB episodes with everything the measures read.
    episodes = f"""
    WITH x AS (
        SELECT t.inst, t.epi, t.unitId, t.careLevel, t.s, t.en,
               CAST(substr(t.s, 1, 10) AS DATE) AS sd,
               CAST(substr(t.en, 1, 10) AS DATE) AS ed,
               t.endType, t.contactType, t.activityPlace, t.indirectActivity, t.c,
               CASE WHEN p.pid_birth IS NOT NULL THEN t.pid END AS pkey,
               coalesce(p.pid_birth, CAST(t.bd AS DATE)) AS birth,
               u.unitId IS NOT NULL AS unit_known, u.rhf AS unit_rhf, u.hfId AS hf,
               coalesce(u.detox, false) AS detox,
               coalesce(u.ownership <> 'public', false) AS priv,
               CASE WHEN t.muni IS NULL THEN u.rhf ELSE m.rhf END AS brhf
        FROM cur t
        LEFT JOIN pids p ON p.pid = t.pid
        LEFT JOIN units u ON u.unitId = t.unitId
        LEFT JOIN munis m ON m.number = t.muni
        WHERE t.status <> 'C' AND t.sector = 'TSB' AND t.careLevel {{}}
    )"""

    # Inpatient episodes (their span ends at the end date or, open, at the evaluation date).
    con.execute("CREATE TEMP TABLE inpatient AS " + episodes.format("= 1") + f"""
    SELECT *, coalesce(pkey, 'anon|' || inst || '|' || epi) AS pk, {GROUP_SQL} AS grp,
           coalesce(ed, greatest({asof}, sd)) AS span_last
    FROM x""")
    # Contacts (careLevel 2, 3, 8), counted per patient, region, kind, group, ownership and start tertial.
    con.execute("CREATE TEMP TABLE contacts AS " + episodes.format("<> 1") + f"""
    SELECT pkey, brhf, {GROUP_SQL} AS grp, {KIND_SQL} AS kind, priv,
           year(sd) AS y, (month(sd) - 1) // 4 + 1 AS t, count(*) AS n
    FROM x GROUP BY ALL""")

    # Periods: every year and tertial between the first start and the last span day.
    lo, hi = con.execute("""SELECT min(y), max(y) FROM (
        SELECT y FROM contacts UNION ALL SELECT year(sd) FROM inpatient UNION ALL SELECT year(span_last) FROM inpatient)""").fetchone()
    if lo is None:
        lo = hi = as_of.year
    con.execute(f"""
    CREATE TEMP TABLE periods AS
    SELECT CAST(y AS VARCHAR) AS period, make_date(y, 1, 1) AS fd, make_date(y, 12, 31) AS ld
    FROM range({lo}, {hi + 1}) r(y)
    UNION ALL
    SELECT y || '-T' || t, make_date(y, (t - 1) * 4 + 1, 1),
           CAST(make_date(y, (t - 1) * 4 + 1, 1) + INTERVAL 4 MONTH - INTERVAL 1 DAY AS DATE)
    FROM range({lo}, {hi + 1}) r(y), range(1, 4) q(t)""")

    # Episode × period: inpatient episodes in every period they overlap (with their bed days there),
    # contacts in the year and tertial of their start; summed per patient, period, region and the
    # attributes the measures split by (n = contacts).
    con.execute("""
    CREATE TEMP TABLE epp AS
    WITH x AS (
        SELECT e.pkey, e.brhf, true AS ip, e.grp, NULL AS kind, e.priv, p.period, 0 AS n,
               greatest(0, datediff('day', greatest(e.sd + 1, p.fd), least(e.span_last, p.ld)) + 1) AS nights
        FROM inpatient e JOIN periods p ON p.fd <= e.span_last AND p.ld >= e.sd
        UNION ALL
        SELECT pkey, brhf, false, grp, kind, priv, unnest([CAST(y AS VARCHAR), y || '-T' || t]), n, 0
        FROM contacts
    )
    SELECT pkey, brhf, ip, grp, kind, priv, period,
           CAST(sum(n) AS BIGINT) AS n, CAST(sum(nights) AS BIGINT) AS nights
    FROM x GROUP BY ALL""")

    # Closed stays: their last episodes.
    con.execute("CREATE TEMP TABLE tstays AS SELECT * FROM (" + stays_sql(
        "(SELECT * FROM inpatient WHERE NOT detox)", "pk") + ") WHERE en IS NOT NULL")
    con.execute("CREATE TEMP TABLE istays AS SELECT * FROM (" + stays_sql(
        "inpatient", "pk, inst") + ") WHERE en IS NOT NULL")

    nk = "'tsb-nokkeltall'"
    con.execute(f"""
    CREATE TEMP TABLE cells AS
    -- §3 per period and place
    WITH pr AS (          -- identified patients per period and region (anonymous episodes have no pkey)
        SELECT period, brhf, pkey, bool_or(ip) AS ip FROM epp WHERE pkey IS NOT NULL GROUP BY ALL
    ), patients AS (
        SELECT 'bosted-rhf' AS level, brhf AS unit, period,
               count(*) AS pasienter, count(*) FILTER (WHERE ip) AS dognpasienter
        FROM pr WHERE brhf IS NOT NULL GROUP BY ALL
        UNION ALL
        SELECT 'national', 'NO', period, count(*), count(*) FILTER (WHERE ip)
        FROM (SELECT period, pkey, bool_or(ip) AS ip FROM pr GROUP BY ALL) GROUP BY ALL
    ), prg AS (
        SELECT DISTINCT period, brhf, grp, pkey FROM epp WHERE pkey IS NOT NULL
    ), group_patients AS (
        SELECT 'bosted-rhf' AS level, brhf AS unit, period, grp, count(*) AS pasienter
        FROM prg WHERE brhf IS NOT NULL GROUP BY ALL
        UNION ALL
        SELECT 'national', 'NO', period, grp, count(*)
        FROM (SELECT DISTINCT period, grp, pkey FROM prg) GROUP BY ALL
    ), totals AS (
        SELECT {LEVEL_OF_GROUPING} AS level, {UNIT_OF_GROUPING} AS unit, period,
               sum(nights) AS oppholdsdogn,
               sum(nights) FILTER (WHERE priv) AS priv_nights,
               sum(n) AS kontakter,
               sum(n) FILTER (WHERE grp = 'z5030') AS lar,
               sum(n) FILTER (WHERE priv) AS priv_kontakter
        FROM epp GROUP BY GROUPING SETS ((period, brhf), (period))
        HAVING {KEEP_GROUPING}
    ), kinds AS (
        SELECT {LEVEL_OF_GROUPING} AS level, {UNIT_OF_GROUPING} AS unit, period, kind, sum(n) AS n
        FROM epp WHERE NOT ip GROUP BY GROUPING SETS ((period, brhf, kind), (period, kind))
        HAVING {KEEP_GROUPING}
    ), groups AS (
        SELECT {LEVEL_OF_GROUPING} AS level, {UNIT_OF_GROUPING} AS unit, period, grp,
               sum(nights) AS oppholdsdogn, sum(n) AS kontakter
        FROM epp GROUP BY GROUPING SETS ((period, brhf, grp), (period, grp))
        HAVING {KEEP_GROUPING}
    ), istay_periods AS (
        SELECT brhf, grp, priv, unnest({periods_of('ed')}) AS period FROM istays
    ), istay_base AS (
        SELECT * FROM {bosted_places('istay_periods')}
    ), istay_groups AS (
        SELECT level, unit, period, grp, count(*) AS n FROM istay_base GROUP BY ALL
    ), istay_totals AS (
        SELECT level, unit, period, count(*) AS n, count(*) FILTER (WHERE priv) AS priv_n
        FROM istay_base GROUP BY ALL
    ), tstay_periods AS (
        SELECT unnest({periods_of('ed')}) AS period, {age_sql('birth', 'ed')} AS age, endType,
               unit_known, unit_rhf, hf, unitId
        FROM tstays
    ), tstay_base AS (
        SELECT 'national' AS level, 'NO' AS unit, period, age, endType FROM tstay_periods
        UNION ALL SELECT 'rhf', unit_rhf, period, age, endType FROM tstay_periods WHERE unit_known
        UNION ALL SELECT 'hf', hf, period, age, endType FROM tstay_periods WHERE unit_known
        UNION ALL SELECT 'unit', unitId, period, age, endType FROM tstay_periods WHERE unit_known
    ), avbrudd AS (
        SELECT level, unit, period,
               count(*) FILTER (WHERE age >= 18 AND endType IN (2, 3, 4)) AS n1,
               count(*) FILTER (WHERE age >= 18) AS d1,
               count(*) FILTER (WHERE age >= 18 AND endType IS NULL) AS n2,
               count(*) FILTER (WHERE age BETWEEN 18 AND 22 AND endType IN (2, 3, 4)) AS n3,
               count(*) FILTER (WHERE age BETWEEN 18 AND 22) AS d3,
               count(*) FILTER (WHERE age BETWEEN 18 AND 29 AND endType IN (2, 3, 4)) AS n4,
               count(*) FILTER (WHERE age BETWEEN 18 AND 29) AS d4
        FROM tstay_base GROUP BY ALL
    ), all_cells AS (
        SELECT {nk} AS indicator, 'pasienter' AS measure, period, level, unit, pasienter AS num, NULL::BIGINT AS den FROM patients
        UNION ALL SELECT {nk}, 'dognpasienter', period, level, unit, dognpasienter, NULL FROM patients
        UNION ALL SELECT {nk}, 'oppholdsdogn', period, level, unit, oppholdsdogn, NULL FROM totals
        UNION ALL SELECT {nk}, 'polikliniske-kontakter', period, level, unit, kontakter, NULL FROM totals
        UNION ALL SELECT {nk}, 'lar-andel', period, level, unit, coalesce(lar, 0), kontakter FROM totals
        UNION ALL SELECT {nk}, 'privat-andel-kontakter', period, level, unit, coalesce(priv_kontakter, 0), kontakter FROM totals
        UNION ALL SELECT {nk}, 'privat-andel-oppholdsdogn', period, level, unit, coalesce(priv_nights, 0), oppholdsdogn FROM totals
        UNION ALL SELECT {nk}, 'kontakter-' || kind, period, level, unit, n, NULL FROM kinds
        UNION ALL SELECT {nk}, 'diagnose-' || grp || '-pasienter', period, level, unit, pasienter, NULL FROM group_patients
        UNION ALL SELECT {nk}, 'diagnose-' || grp || '-oppholdsdogn', period, level, unit, oppholdsdogn, NULL FROM groups
        UNION ALL SELECT {nk}, 'diagnose-' || grp || '-kontakter', period, level, unit, kontakter, NULL FROM groups
        UNION ALL SELECT {nk}, 'dognopphold', period, level, unit, n, NULL FROM istay_totals
        UNION ALL SELECT {nk}, 'privat-andel-dognopphold', period, level, unit, priv_n, n FROM istay_totals
        UNION ALL SELECT {nk}, 'diagnose-' || grp || '-dognopphold', period, level, unit, n, NULL FROM istay_groups
        UNION ALL SELECT 'tsb-avbrudd', 'hovedmaltall', period, level, unit, n1, d1 FROM avbrudd
        UNION ALL SELECT 'tsb-avbrudd', 'maltall-2', period, level, unit, n2, d1 FROM avbrudd
        UNION ALL SELECT 'tsb-avbrudd', 'maltall-3', period, level, unit, n3, d3 FROM avbrudd
        UNION ALL SELECT 'tsb-avbrudd', 'maltall-4', period, level, unit, n4, d4 FROM avbrudd
    )
    SELECT indicator, measure, period, level, unit, 'all' AS sex, num AS numerator, den AS denominator
    FROM all_cells
    WHERE CASE WHEN den IS NULL THEN coalesce(num, 0) > 0 ELSE den > 0 END""")
    return activities


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("directory")
    ap.add_argument("--as-of", help="evaluation date YYYY-MM-DD (default: DIR/as-of.txt, else today)")
    ap.add_argument("--out", required=True, help="CSV file to write")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    args = ap.parse_args()

    as_of_text = args.as_of
    if as_of_text is None:
        path = os.path.join(args.directory, "as-of.txt")
        as_of_text = open(path).read().strip() if os.path.exists(path) else dt.date.today().isoformat()
    as_of = dt.date.fromisoformat(as_of_text)

    started = time.perf_counter()
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    activities = compute(con, args.directory, as_of)
    con.execute(f"""
    COPY (SELECT * FROM cells ORDER BY indicator, measure, period, level, unit, sex)
    TO {sql_str(args.out)} (FORMAT csv, HEADER true)""")
    cells = con.execute("SELECT count(*) FROM cells").fetchone()[0]
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": round(seconds, 3), "cells": cells, "activities": activities}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
