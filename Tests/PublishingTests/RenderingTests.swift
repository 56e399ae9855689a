import Foundation
import NPRCore
import SyntheticData
import Testing

@testable import Publishing

@Suite struct JSONStatTests {
    /// Published cells of two indicators across measures, periods, levels, units and sexes, some suppressed,
    /// with mortality cells that carry a confidence interval.
    static func sampleCells() -> [PublishedCell] {
        var rng = SplitMix64(seed: 5)
        let h = RandomHierarchy(levels: [.national, .rhf, .hf], tertials: true, rng: &rng)
        var cells = Array(h.cells.values)
        for cell in h.cells.values where cell.key.level != .hf {
            var other = cell
            other.key.measure = "maltall-2"
            other.key.sex = .female
            other.unitName = "Name of \(cell.key.unit)"
            cells.append(other)
        }
        cells.append(makeCell(.nokkeltall, measure: "pasienter", formula: .count, numerator: 400, denominator: nil, patients: 400))
        cells.append(mortalityCell(d1: 30, n1: 5_000))
        cells.append(mortalityCell(level: .rhf, unit: "vest", parent: "NO", d1: 12, n1: 1_000))
        cells.append(mortalityCell(level: .rhf, unit: "nord", parent: "NO", d1: 3, n1: 900))
        cells.append(mortalityCell(level: .helsefellesskap, unit: "Bergen", parent: "vest", d1: 8, n1: 600))
        var engine = PublisherEngine()
        for cell in cells { engine.apply(CellUpdate(key: cell.key, cell: cell)) }
        _ = engine.publish(now: "2025-03-01T10:00:00Z")
        return engine.cells()
    }

    /// Checks the JSON-stat 2.0 dataset rules on the parsed JSON and returns it.
    @discardableResult
    func validate(_ data: Data) throws -> [String: Any] {
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["version"] as? String == "2.0")
        #expect(json["class"] as? String == "dataset")
        #expect(json["label"] is String && json["source"] is String)
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
            for (parent, children) in category["child"] as? [String: [String]] ?? [:] {
                #expect(index[parent] != nil && children.allSatisfy { index[$0] != nil }, "children of \(parent) are categories")
            }
            if let units = category["unit"] as? [String: [String: Any]] {
                #expect(Set(units.keys).isSubset(of: Set(index.keys)))
                #expect(units.values.allSatisfy { $0["label"] is String && $0["decimals"] is Int })
            }
        }
        let values = try #require(json["value"] as? [Any])
        let total = size.reduce(1, *)
        #expect(values.count == total)
        #expect(values.allSatisfy { $0 is NSNull || $0 is NSNumber })
        let status = json["status"] as? [String: String] ?? [:]
        for position in status.keys { #expect(Int(position).map { (0..<total).contains($0) } == true) }
        let legend = try #require((json["extension"] as? [String: Any])?["status"] as? [String: String])
        #expect(Set(status.values).isSubset(of: Set(legend.keys)), "every status symbol is in the legend")
        if let role = json["role"] as? [String: [String]] {
            #expect(role.values.joined().allSatisfy(ids.contains))
        }
        return json
    }

    /// The position of a cell's content in the cube, from the parsed indexes (row-major, last dimension fastest).
    func position(_ json: [String: Any], _ coordinates: [String]) -> Int? {
        let ids = json["id"] as! [String], size = json["size"] as! [Int]
        let dimension = json["dimension"] as! [String: [String: Any]]
        var position = 0
        for (d, id) in ids.enumerated() {
            guard let i = ((dimension[id]!["category"] as! [String: Any])["index"] as! [String: Int])[coordinates[d]] else { return nil }
            position = position * size[d] + i
        }
        return position
    }

    @Test func everyContentOfEveryCellIsPlacedWithAStatusForEachNull() throws {
        let cells = Self.sampleCells()
        for indicator in ["tsb-avbrudd", "tsb-overdodelighet"] {
            let dataset = JSONStat.dataset(indicator: indicator, cells: cells, revision: 7)
            let data = try dataset.jsonData()
            let json = try validate(data)
            #expect(json["id"] as? [String] == ["measure", "period", "region", "sex", "contents"])
            // JSONSerialization reads doubles lossily; JSONDecoder reads them exactly.
            struct Cube: Decodable { var value: [Double?] }
            let exact = try JSONDecoder().decode(Cube.self, from: data).value
            let status = json["status"] as? [String: String] ?? [:]
            let mine = cells.map(\.value).filter { $0.indicator == indicator }
            var filled = Set<Int>()
            for v in mine {
                let region = JSONStat.regionId(level: v.level, unit: v.unit)
                let contents: [Double?] = [v.value, v.numerator.map(Double.init), v.denominator.map(Double.init), v.ciLower, v.ciUpper]
                for (content, expected) in zip(JSONStat.contentIds, contents) {
                    let p = try #require(position(json, [v.measure, v.period, region, v.sex, content]))
                    filled.insert(p)
                    #expect(exact[p] == expected, "\(v.key) \(content)")
                    let symbol: String? =
                        switch (expected, v.status) {
                        case (.some, _): nil
                        case (nil, .suppressedPrimary): ":"
                        case (nil, .suppressedSecondary): ":s"
                        case (nil, _): "."
                        }
                    #expect(status[String(p)] == symbol, "\(v.key) \(content)")
                }
            }
            #expect(filled.count == mine.count * 5)
            #expect(status.count == filled.filter { exact[$0] == nil }.count, "only cells that exist have a status")
            #expect(json["updated"] as? String == "2025-03-01T10:00:00Z")
            #expect((json["extension"] as? [String: Any])?["revision"] as? Int == 7)
            #expect((json["extension"] as? [String: Any])?["evaluationDate"] as? String == "2025-03-01")
        }
        let avbrudd = cells.map(\.value).filter { $0.indicator == "tsb-avbrudd" }
        #expect(avbrudd.contains { $0.status == .suppressedPrimary } && avbrudd.contains { $0.status == .suppressedSecondary })
        #expect(cells.contains { $0.value.indicator == "tsb-overdodelighet" && $0.value.ciLower != nil })
    }

    @Test func oneGeographyDimensionWithTheHierarchyInChild() throws {
        let cells = Self.sampleCells()
        let d = JSONStat.dataset(indicator: "tsb-avbrudd", cells: cells, revision: 1)
        let region = d.dimension["region"]!
        let regions = Set(cells.map(\.value).filter { $0.indicator == "tsb-avbrudd" }.map { "\($0.level):\($0.unit)" })
        #expect(Set(region.category.index.keys) == regions, "one category per place, no level × unit crossing")
        #expect(region.category.index["national:NO"] == 0)
        let child = try #require(region.category.child)
        // Every RHF under the nation, every HF under its RHF, each exactly once.
        let rhfs = regions.filter { $0.hasPrefix("rhf:") }, hfs = regions.filter { $0.hasPrefix("hf:") }
        #expect(Set(child["national:NO"] ?? []) == rhfs)
        #expect(Set(rhfs.flatMap { child[$0] ?? [] }) == hfs)
        #expect(child.values.joined().count == rhfs.count + hfs.count)
        #expect(region.extension?.level["rhf:r1"] == "rhf" && region.extension?.code["rhf:r1"] == "r1")

        let mortality = JSONStat.dataset(indicator: "tsb-overdodelighet", cells: cells, revision: 1)
        let m = try #require(mortality.dimension["region"]!.category.child)
        #expect(Set(m["national:NO"] ?? []) == ["rhf:vest", "rhf:nord"])
        #expect(m["rhf:vest"] == ["helsefellesskap:Bergen"])
    }

    @Test func labelsUnitsAndLegendInBothLanguages() throws {
        let cells = Self.sampleCells()
        let nb = JSONStat.dataset(indicator: "tsb-avbrudd", cells: cells, revision: 1)
        #expect(nb.label == "Avbrudd i TSB-døgnbehandling")
        #expect(nb.dimension["measure"]!.category.label["hovedmaltall"] == "Andel avbrutte behandlingsopphold")
        #expect(nb.dimension["measure"]!.category.unit?["hovedmaltall"] == .init(label: "andel i prosent", decimals: 3))
        #expect(nb.dimension["period"]!.category.label["2024-T2"] == "2. tertial 2024")
        #expect(nb.dimension["region"]!.category.label["national:NO"] == "Hele landet")
        #expect(nb.dimension["contents"]!.category.unit?["numerator"] == .init(label: "antall", decimals: 0))
        #expect(nb.extension.status[":"]?.contains("primær") == true && nb.extension.status[":s"]?.contains("sekundær") == true)
        #expect(nb.note.first?.contains("avslutningstype") == true)
        #expect(nb.role.metric == ["measure", "contents"] && nb.role.geo == ["region"])

        let en = JSONStat.dataset(indicator: "tsb-avbrudd", cells: cells, revision: 1, language: .en)
        #expect(en.label.hasPrefix("Dropout"))
        #expect(en.dimension["period"]!.category.label["2024-T2"] == "Tertial 2 2024")
        #expect(en.dimension["sex"]!.category.label["all"] == "Both sexes")
        #expect(en.extension.language == "en")

        let mortality = JSONStat.dataset(indicator: "tsb-overdodelighet", cells: cells, revision: 1)
        #expect(mortality.dimension["measure"]!.category.unit?["hovedmaltall"]?.decimals == 2)
    }

    @Test func otherIndicatorsAndEmptyInputGiveValidDatasets() throws {
        let cells = Self.sampleCells()
        let one = JSONStat.dataset(indicator: "tsb-nokkeltall", cells: cells, revision: 3)
        try validate(try one.jsonData())
        #expect(one.size == [1, 1, 1, 1, 5])
        #expect(one.value == [400, 400, nil, nil, nil])
        #expect(one.status == ["2": ".", "3": ".", "4": "."], "a count has no denominator and no interval")
        let empty = JSONStat.dataset(indicator: "tsb-poliklinikk", cells: cells, revision: 3)
        let json = try validate(try empty.jsonData())
        #expect((json["value"] as! [Any]).isEmpty && json["updated"] == nil)
    }
}

@Suite struct CSVTests {
    /// A minimal RFC 4180 reader, to check the writer's output independently.
    func parse(_ text: String, separator: Unicode.Scalar = ",") -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var chars = Array(text.unicodeScalars)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" {
                        field.unicodeScalars.append("\"")
                        chars.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == separator {
                row.append(field)
                field = ""
            } else if c == "\r" && chars.first == "\n" {
                chars.removeFirst()
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            } else {
                field.unicodeScalars.append(c)
            }
        }
        return rows
    }

    static let ok = PublishedValue(
        indicator: "tsb-avbrudd", measure: "hovedmaltall", period: "2024-T2", level: "hf", unit: "974589095",
        unitName: "Helse \"Vest\", rus\r\nog avhengighet", sex: "all", numerator: 12, denominator: 80,
        value: 0.15, ciLower: nil, ciUpper: nil, status: .ok, revision: 3, asOf: asOf,
        updatedAt: "2024-09-02T10:15:00Z")
    static let hidden = PublishedValue(
        indicator: "tsb-overdodelighet", measure: "hovedmaltall", period: "2024", level: "national",
        unit: "NO", unitName: nil, sex: "all", numerator: nil, denominator: nil, value: nil,
        ciLower: nil, ciUpper: nil, status: .suppressedPrimary, revision: 1, asOf: asOf,
        updatedAt: "2024-09-02T10:15:00Z")

    @Test func rendersHeaderQuotingNullsAndLabels() {
        let text = CSV.render(values: [Self.ok, Self.hidden])
        #expect(text.hasSuffix("\r\n") && !text.hasPrefix("\u{FEFF}"))
        #expect(text.contains("\"Helse \"\"Vest\"\", rus\r\nog avhengighet\""))
        let rows = parse(text)
        #expect(rows.count == 3)
        #expect(
            rows[0] == [
                "indicator", "measure", "period", "level", "unit", "unitName", "sex", "numerator", "denominator",
                "value", "ciLower", "ciUpper", "status", "revision", "asOf", "updatedAt",
                "indicatorLabel", "measureLabel", "periodLabel", "levelLabel", "regionLabel", "sexLabel", "statusSymbol", "statusLabel",
            ])
        #expect(
            rows[1] == [
                "tsb-avbrudd", "hovedmaltall", "2024-T2", "hf", "974589095", "Helse \"Vest\", rus\r\nog avhengighet",
                "all", "12", "80", "0.15", "", "", "ok", "3", "2025-03-01", "2024-09-02T10:15:00Z",
                "Avbrudd i TSB-døgnbehandling", "Andel avbrutte behandlingsopphold", "2. tertial 2024", "Helseforetak",
                "Helse \"Vest\", rus\r\nog avhengighet", "Begge kjønn", "", "Publisert verdi",
            ])
        #expect(
            Array(rows[2].prefix(16)) == [
                "tsb-overdodelighet", "hovedmaltall", "2024", "national", "NO", "", "all", "", "", "", "", "",
                "suppressed-primary", "1", "2025-03-01", "2024-09-02T10:15:00Z",
            ])
        #expect(
            rows[2][16...].prefix(7) == [
                "Overdødelighet hos personer i TSB", "Overdødelighet", "2024", "Hele landet", "Hele landet",
                "Begge kjønn", ":",
            ])
        let english = parse(CSV.render(values: [Self.ok], language: .en))
        #expect(
            english[1][16...].prefix(6) == [
                "Dropout from inpatient substance-use treatment (TSB)", "Share of treatment stays ended by dropout",
                "Tertial 2 2024", "Health trust", "Helse \"Vest\", rus\r\nog avhengighet", "Both sexes",
            ])
    }

    /// The Norwegian spreadsheet dialect: byte-order mark, semicolons, decimal commas, no exponent.
    @Test func norwegianSpreadsheetDialect() {
        var small = Self.ok
        small.value = 1e-05
        small.ciLower = -2.5e-7
        small.ciUpper = 1.5e21
        small.unitName = "Sør; Øst"
        let text = CSV.render(values: [small, Self.hidden], dialect: .excelNb)
        #expect(text.hasPrefix("\u{FEFF}indicator;measure;period;"))
        let rows = parse(String(text.dropFirst()), separator: ";")
        #expect(rows.allSatisfy { $0.count == CSV.columns.count })
        #expect(Array(rows[1][5...11]) == ["Sør; Øst", "all", "12", "80", "0,00001", "-0,00000025", "1500000000000000000000"])
        #expect(rows[1][20] == "Sør; Øst")
    }

    @Test(arguments: [0.15, 1e-05, 2.5e-7, 123456.789, 1.5e21, 5e-324, 0.1 + 0.2, 100, 1.0 / 3])
    func positionalNotationReadsBackExactly(x: Double) {
        for value in [x, -x] {
            let text = CSV.positional(value)
            #expect(!text.contains("e") && Double(text) == value, "\(value) → \(text)")
        }
    }

    @Test func fileNames() {
        #expect(CSV.fileName(indicator: "tsb-avbrudd", date: "2026-12-03") == "tsb-avbrudd-2026-12-03.csv")
        #expect(CSV.fileName(indicator: nil, date: "2026-12-03") == "tsb-indikatorer-2026-12-03.csv")
        #expect(CSV.fileName(indicator: "\"; rm -rf /", date: "2026-12-03") == "rm-rf-2026-12-03.csv")
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
        let v = PublishedValue(
            indicator: "tsb-overdodelighet", measure: "hovedmaltall", period: "2024", level: "unit", unit: "=U1",
            unitName: "=cmd|' /C calc'!A0", sex: "all", numerator: 3, denominator: 40, value: -0.25,
            ciLower: -1.5, ciUpper: 2, status: .ok, revision: 1, asOf: LocalDate("2025-03-01")!,
            updatedAt: "2025-03-01T10:00:00Z")
        let row = CSV.render(values: [v]).split(separator: "\r\n")[1]
        #expect(row.contains(",'=cmd|' /C calc'!A0,Begge kjønn,"), "the label columns are neutralised too")
        #expect(row.hasPrefix("tsb-overdodelighet,hovedmaltall,2024,unit,'=U1,'=cmd|' /C calc'!A0,all,3,40,-0.25,-1.5,2.0,ok"))
    }
}
