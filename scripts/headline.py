"""Prints a table of headline national indicators of one year from GET /v1/indicators (stdin)."""
import json, sys
year = sys.argv[1] if len(sys.argv) > 1 else None
rows = [r for r in json.load(sys.stdin) if year is None or r["period"].startswith(year)]
wanted = {("tsb-avbrudd", "hovedmaltall"), ("tsb-nokkeltall", "pasienter"), ("tsb-nokkeltall", "dognopphold"),
          ("tsb-nokkeltall", "oppholdsdogn"), ("tsb-nokkeltall", "polikliniske-kontakter"),
          ("tsb-overdodelighet", "hovedmaltall"), ("tsb-poliklinikk", "konsultasjoner-pasienter")}
print(f"{'indicator':20} {'measure':26} {'period':8} {'value':>12} {'num':>8} {'den':>8}  status")
for r in sorted(rows, key=lambda r: (r["indicator"], r["measure"], r["period"])):
    if (r["indicator"], r["measure"]) in wanted:
        v = "" if r["value"] is None else (f"{r['value']:.3f}" if isinstance(r["value"], float) and r["value"] < 100 else f"{r['value']:.0f}")
        print(f"{r['indicator']:20} {r['measure']:26} {r['period']:8} {v:>12} {str(r['numerator'] or ''):>8} {str(r['denominator'] or ''):>8}  {r['status']}")
