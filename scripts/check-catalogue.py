"""Checks that contracts/topics.json declares exactly the topics of Shared/NPRCore/Topics.swift
(names, partitions, cleanup policy), so the documented catalogue and the code cannot drift apart."""
import json, re, sys, os
root = os.path.join(os.path.dirname(__file__), "..")
swift = open(os.path.join(root, "Shared/NPRCore/Topics.swift")).read()
names = dict(re.findall(r'static let (\w+) = "([^"]+)"', swift))
code = {names[n]: (int(p), c == "true") for n, p, c in
        re.findall(r'TopicDeclaration\(name: (\w+), partitions: (\d+), compacted: (true|false)\)', swift)}
doc = json.load(open(os.path.join(root, "contracts/topics.json")))
topics = doc["topics"] if isinstance(doc, dict) else doc
declared = {t["name"]: (int(t["partitions"]), t["cleanupPolicy"] == "compact") for t in topics}
if declared != code:
    print("contracts/topics.json and Topics.swift disagree:")
    for n in sorted(set(declared) | set(code)):
        if declared.get(n) != code.get(n): print(f"  {n}: contracts {declared.get(n)} code {code.get(n)}")
    sys.exit(1)
print(f"topic catalogue: {len(code)} topics agree")
