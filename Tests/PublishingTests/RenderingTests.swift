import Foundation
import NPRCore
import SyntheticData
import Testing
@testable import Publishing

@Suite struct JSONStatTests {
    /// Values of two indicators across measures, periods, levels, units and sexes, some suppressed.
    static func sampleValues() -> [PublishedValue] {
        var rng = SplitMix64(seed: 5)
        let h = RandomHierarchy(levels: [.national, .rhf, .hf], tertials: true, rng: &rng)
        var cells = Array(h.cells.values)
        for cell in h.cells.values where cell.key.level != .hf {
            var other = cell; other.key.measure = "maltall-2"; other.key.sex = .female; other.unitName = "Name of \(cell.key.unit)"
            cells.append(other)
        }
        cells.append(makeCell(.nokkeltall, measure: "pasienter", formula: .count, numerator: 400, denominator: nil, patients: 400))
        return Array(publishAll(cells).values)
    }

    /// Checks the JSON-stat 2.0 dataset rules on the parsed JSON and returns it.
    @discardableResult
    func validate(_ data: Data) throws -> [String: Any] {
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["version"] as? String == "2.0")
        #expect(json["class"] as? String == "dataset")
        #expect(json["label"] is String)
        let ids = try #require(json["id"] as? [String])
        let size = try #require(json["size"] as? [Int])
        let dimension = try #require(json["dimension"] as? [String: Any])
        #expect(ids.count == size.count)
        #expect(Set(ids) == Set(dimension.keys) && Set(ids).count == ids.count)
        for (id, n) in zip(ids, size) {
            let dim = try #require(dimension[id] as? [String: Any])
            let category = try #require(dim["category"] as? [String: Any])
            let index = try #require(category["index"] as? [String: Int])
            #expect(index.count == n)
            #expect(Set(index.values) == Set(0..<n), "positions of \(id) are unique and dense")
            let labels = try #require(category["label"] as? [String: String])
            #expect(Set(labels.keys) == Set(index.keys))
        }
        let values = try #require(json["value"] as? [Any])
        let total = size.reduce(1, *)
        #expect(values.count == total)
        #expect(values.allSatisfy { $0 is NSNull || $0 is NSNumber })
        if let status = json["status"] {
            let byPosition = try #require(status as? [String: String])
            for position in byPosition.keys { #expect(Int(position).map { (0..<total).contains($0) } == true) }
        }
        if let role = json["role"] as? [String: [String]] {
            #expect(role.values.joined().allSatisfy(ids.contains))
        }
        return json
    }

    @Test func datasetFollowsTheFormatAndPlacesEveryValue() throws {
        let values = Self.sampleValues()
        let dataset = JSONStat.dataset(indicator: "tsb-avbrudd", values: values, label: "Avbrudd")
        let json = try validate(try dataset.jsonData())
        #expect(json["label"] as? String == "Avbrudd")
        #expect(json["id"] as? [String] == ["measure", "period", "level", "unit", "sex"])
        let mine = values.filter { $0.indicator == "tsb-avbrudd" }
        #expect(json["updated"] as? String == "2025-03-01T10:00:00Z")

        // Position of every value from the parsed indexes, row-major with the last dimension fastest.
        let ids = json["id"] as! [String], size = json["size"] as! [Int]
        let dimension = json["dimension"] as! [String: [String: Any]]
        let index = ids.map { (dimension[$0]!["category"] as! [String: Any])["index"] as! [String: Int] }
        let cube = json["value"] as! [Any]
        // JSONSerialization reads doubles lossily; JSONDecoder reads them exactly.
        struct Cube: Decodable { var value: [Double?] }
        let exact = try JSONDecoder().decode(Cube.self, from: try dataset.jsonData()).value
        let status = json["status"] as? [String: String] ?? [:]
        var filled = Set<Int>()
        for v in mine {
            let coordinates = [v.measure, v.period, v.level, v.unit, v.sex]
            var position = 0
            for d in 0..<5 { position = position * size[d] + index[d][coordinates[d]]! }
            filled.insert(position)
            #expect(exact[position] == v.value)
            #expect(status[String(position)] == (v.status == .ok ? nil : v.status.rawValue))
        }
        #expect(filled.count == mine.count)
        #expect(status.count == mine.filter { $0.status != .ok }.count)
        #expect(mine.contains { $0.status == .suppressedPrimary } && mine.contains { $0.status == .suppressedSecondary })
        // Cells no value occupies are null.
        for p in cube.indices where !filled.contains(p) { #expect(cube[p] is NSNull && exact[p] == nil) }
    }

    @Test func categoriesAreOrderedAndLabelled() throws {
        let values = Self.sampleValues()
        let d = JSONStat.dataset(indicator: "tsb-avbrudd", values: values)
        #expect(d.label == "tsb-avbrudd")
        #expect(d.dimension["level"]!.category.index == ["national": 0, "rhf": 1, "hf": 2])
        #expect(d.dimension["sex"]!.category.index == ["all": 0, "female": 1])
        #expect(d.dimension["period"]!.category.index == ["2024": 0, "2024-T1": 1, "2024-T2": 2, "2024-T3": 3])
        #expect(d.dimension["unit"]!.category.index["NO"] == 0)
        #expect(d.dimension["unit"]!.category.label["r1"] == "Name of r1")
        #expect(d.dimension["measure"]!.category.label["hovedmaltall"] == "hovedmaltall")
    }

    @Test func otherIndicatorsAndEmptyInputGiveValidDatasets() throws {
        let values = Self.sampleValues()
        let one = JSONStat.dataset(indicator: "tsb-nokkeltall", values: values)
        try validate(try one.jsonData())
        #expect(one.size == [1, 1, 1, 1, 1] && one.value == [400] && one.status == nil)
        let empty = JSONStat.dataset(indicator: "tsb-poliklinikk", values: values)
        let json = try validate(try empty.jsonData())
        #expect((json["value"] as! [Any]).isEmpty && json["updated"] == nil)
    }
}

@Suite struct CSVTests {
    /// A minimal RFC 4180 reader, to check the writer's output independently.
    func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var chars = Array(text.unicodeScalars)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.unicodeScalars.append("\""); chars.removeFirst() } else { quoted = false }
                } else { field.unicodeScalars.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { row.append(field); field = "" }
            else if c == "\r" && chars.first == "\n" { chars.removeFirst(); row.append(field); rows.append(row); row = []; field = "" }
            else { field.unicodeScalars.append(c) }
        }
        return rows
    }

    @Test func rendersHeaderQuotingAndNulls() {
        let ok = PublishedValue(indicator: "tsb-avbrudd", measure: "hovedmaltall", period: "2024-T2", level: "hf", unit: "974589095",
                                unitName: "Helse \"Vest\", rus\r\nog avhengighet", sex: "all", numerator: 12, denominator: 80,
                                value: 0.15, ciLower: nil, ciUpper: nil, status: .ok, revision: 3, asOf: asOf,
                                updatedAt: "2024-09-02T10:15:00Z")
        let hidden = PublishedValue(indicator: "tsb-overdodelighet", measure: "hovedmaltall", period: "2024", level: "national",
                                    unit: "NO", unitName: nil, sex: "all", numerator: nil, denominator: nil, value: nil,
                                    ciLower: nil, ciUpper: nil, status: .suppressedPrimary, revision: 1, asOf: asOf,
                                    updatedAt: "2024-09-02T10:15:00Z")
        let text = CSV.render(values: [ok, hidden])
        #expect(text.hasSuffix("\r\n"))
        #expect(text.contains("\"Helse \"\"Vest\"\", rus\r\nog avhengighet\""))
        let rows = parse(text)
        #expect(rows.count == 3)
        #expect(rows[0] == ["indicator", "measure", "period", "level", "unit", "unitName", "sex", "numerator", "denominator",
                            "value", "ciLower", "ciUpper", "status", "revision", "asOf", "updatedAt"])
        #expect(rows[1] == ["tsb-avbrudd", "hovedmaltall", "2024-T2", "hf", "974589095", "Helse \"Vest\", rus\r\nog avhengighet",
                            "all", "12", "80", "0.15", "", "", "ok", "3", "2025-03-01", "2024-09-02T10:15:00Z"])
        #expect(rows[2] == ["tsb-overdodelighet", "hovedmaltall", "2024", "national", "NO", "", "all", "", "", "", "", "",
                            "suppressed-primary", "1", "2025-03-01", "2024-09-02T10:15:00Z"])
    }

    @Test func emptyInputIsTheHeaderAlone() {
        #expect(CSV.render(values: []) == CSV.columns.joined(separator: ",") + "\r\n")
    }
}

/// Text that a spreadsheet would run as a formula is neutralised; numbers are not touched.
@Suite struct CSVInjectionTests {
    @Test(arguments: ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
    func formulaLikeTextGetsALeadingQuote(text: String) {
        #expect(CSV.inert(text) == "'" + text)
    }

    @Test func ordinaryTextAndNegativeNumbersStay() {
        #expect(CSV.inert("Helse Vest") == "Helse Vest")
        let v = PublishedValue(indicator: "tsb-overdodelighet", measure: "hovedmaltall", period: "2024", level: "unit", unit: "=U1",
                               unitName: "=cmd|' /C calc'!A0", sex: "all", numerator: 3, denominator: 40, value: -0.25,
                               ciLower: -1.5, ciUpper: 2, status: .ok, revision: 1, asOf: LocalDate("2025-03-01")!,
                               updatedAt: "2025-03-01T10:00:00Z")
        let row = CSV.render(values: [v]).split(separator: "\r\n")[1]
        #expect(row.hasPrefix("tsb-overdodelighet,hovedmaltall,2024,unit,'=U1,'=cmd|' /C calc'!A0,all,3,40,-0.25,-1.5,2.0,ok"))
    }
}
