"""Prints the headline indicators of one year per region from GET /v1/indicators (stdin): dropout share
(tsb-avbrudd, the stay's unit region), excess mortality with its 95 % CI (tsb-overdodelighet) and key figures
(tsb-nokkeltall, the patients' home region). Suppressed cells show their status."""
import json
import sys

year = sys.argv[1] if len(sys.argv) > 1 else None
rows = [r for r in json.load(sys.stdin) if r["sex"] == "all" and (year is None or r["period"] == year)]
regions = [("NO", "Norway"), ("sor-ost", "Helse Sør-Øst"), ("vest", "Helse Vest"), ("midt-norge", "Helse Midt-Norge"), ("nord", "Helse Nord")]
levels = {"tsb-avbrudd": "rhf", "tsb-overdodelighet": "rhf", "tsb-nokkeltall": "bosted-rhf"}


def cell(indicator, measure, region):
    level = "national" if region == "NO" else levels[indicator]
    for r in rows:
        if r["indicator"] == indicator and r["measure"] == measure and r["level"] == level and r["unit"] == region:
            return r
    return None


def show(r, kind):
    if r is None:
        return "–"
    if r["status"].startswith("suppressed"):
        return "suppressed"
    if r["value"] is None:
        return "undefined"
    if kind == "share":
        return f"{100 * r['value']:.1f} % ({r['numerator']}/{r['denominator']})"
    if kind == "ratio":
        return f"{r['value']:.2f} ({r['ciLower']:.2f}–{r['ciUpper']:.2f})"
    return f"{r['value']:,.0f}".replace(",", " ")


columns = [("dropout share", "tsb-avbrudd", "hovedmaltall", "share"),
           ("excess mortality (95 % CI)", "tsb-overdodelighet", "hovedmaltall", "ratio"),
           ("patients", "tsb-nokkeltall", "pasienter", "count"),
           ("inpatient stays", "tsb-nokkeltall", "dognopphold", "count"),
           ("bed days", "tsb-nokkeltall", "oppholdsdogn", "count"),
           ("outpatient contacts", "tsb-nokkeltall", "polikliniske-kontakter", "count")]
table = [["region"] + [c[0] for c in columns]]
for code, name in regions:
    table.append([name] + [show(cell(ind, m, code), kind) for _, ind, m, kind in columns])
widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
print(f"Headline indicators {year or ''}".strip())
for i, row in enumerate(table):
    print("  ".join(v.ljust(w) if j == 0 else v.rjust(w) for j, (v, w) in enumerate(zip(row, widths))))
    if i == 0:
        print("  ".join("-" * w for w in widths))
