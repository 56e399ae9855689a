import Foundation
import NPRCore

/// A JSON-stat 2.0 dataset (https://json-stat.org/format/) of one indicator, laid out as statistics offices
/// publish: dimensions measure × period × region × sex × contents, where `contents` holds the value, its
/// numerator and denominator and its confidence interval, and `region` is one geography dimension whose
/// hierarchy is in `category.child` (national → RHF → HF → unit; national → RHF → helsefellesskap;
/// national → region of residence), so levels and units are never crossed into empty cells.
public struct JSONStatDataset: Encodable, Sendable, Hashable {
    public struct Unit: Encodable, Sendable, Hashable {
        public var label: String
        public var decimals: Int
    }

    public struct Category: Encodable, Sendable, Hashable {
        /// Category id → position in the dimension.
        public var index: [String: Int]
        public var label: [String: String]
        /// Parent id → child ids (the region hierarchy).
        public var child: [String: [String]]?
        /// Units of a metric dimension's categories.
        public var unit: [String: Unit]?
        public var note: [String: [String]]?
    }

    /// Per region category: its level and code as `/v1/indicators` names them.
    public struct RegionExtension: Encodable, Sendable, Hashable {
        public var level: [String: String]
        public var code: [String: String]
    }

    public struct Dimension: Encodable, Sendable, Hashable {
        public var label: String
        public var category: Category
        public var `extension`: RegionExtension?
    }

    public struct Role: Encodable, Sendable, Hashable {
        public var time: [String]
        public var geo: [String]
        public var metric: [String]
    }

    /// What JSON-stat has no field for: the status legend, the evaluation date, the revision.
    public struct Extension: Encodable, Sendable, Hashable {
        public var indicator: String
        public var language: String
        /// Status symbol → its meaning.
        public var status: [String: String]
        /// The evaluation date of the values (the latest, if they differ).
        public var evaluationDate: String?
        /// The publication log's position the dataset reflects: a newer dataset has a higher revision.
        public var revision: Int
    }

    public let version = "2.0"
    public let kind = "dataset"
    public var label: String
    public var source: String
    /// The latest `updatedAt` of the values (ISO 8601); nil for an empty dataset.
    public var updated: String?
    public var note: [String]
    /// Dimension ids in the order of `size` and of the value array's row-major layout.
    public var id: [String]
    public var size: [Int]
    public var role: Role
    public var dimension: [String: Dimension]
    /// Dense, row-major (last dimension fastest); null where there is nothing to show.
    public var value: [Double?]
    /// Value position (as a string) → status symbol, for every null the legend explains.
    public var status: [String: String]?
    public var `extension`: Extension

    enum CodingKeys: String, CodingKey {
        case version, kind = "class", label, source, updated, note, id, size, role, dimension, value, status, `extension`
    }

    /// The dataset as JSON, keys sorted so equal datasets give equal bytes.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

public enum JSONStat {
    /// Dimension ids, in layout order.
    public static let dimensionIds = ["measure", "period", "region", "sex", "contents"]
    /// The contents of one cell, in layout order.
    public static let contentIds = ["value", "numerator", "denominator", "ciLower", "ciUpper"]

    /// The region category of a level and unit code (`rhf:vest`): codes repeat across levels.
    public static func regionId(level: String, unit: String) -> String { level + ":" + unit }

    /// The level of a level's parent in the hierarchy.
    static func parentLevel(of level: String) -> String? {
        switch Level(rawValue: level) {
        case .national, nil: return nil
        case .rhf, .bostedRHF: return Level.national.rawValue
        case .hf, .helsefellesskap: return Level.rhf.rawValue
        case .unit: return Level.hf.rawValue
        }
    }

    /// Lays the published cells of `indicator` (others are ignored) out as a JSON-stat cube over the categories
    /// that occur, labelled in `language`. Categories are ordered: measures and periods as strings, regions by
    /// level (national first) then code, sexes in their declared order (all, male, female).
    public static func dataset(
        indicator: String, cells: [PublishedCell], revision: Int, language: Language = .nb,
        labels: LabelCatalogue = .shared
    ) -> JSONStatDataset {
        let rows = cells.filter { $0.value.indicator == indicator }
        let levelRank = Dictionary(uniqueKeysWithValues: Level.allCases.enumerated().map { ($1.rawValue, $0) })
        let sexRank = Dictionary(uniqueKeysWithValues: Sex.allCases.enumerated().map { ($1.rawValue, $0) })
        func rank(_ table: [String: Int], _ id: String) -> Int { table[id] ?? table.count }

        var regionLevel: [String: String] = [:], regionCode: [String: String] = [:], regionLabel: [String: String] = [:]
        var regionParent: [String: String] = [:]
        var measureUnit: [String: JSONStatDataset.Unit] = [:]
        for cell in rows {
            let v = cell.value
            let region = regionId(level: v.level, unit: v.unit)
            regionLevel[region] = v.level
            regionCode[region] = v.unit
            if regionLabel[region] == nil || v.unitName != nil {
                regionLabel[region] = labels.region(unit: v.unit, unitName: v.unitName, language)
            }
            if let parent = cell.parent, let level = parentLevel(of: v.level) { regionParent[region] = regionId(level: level, unit: parent) }
            if measureUnit[v.measure] == nil, let formula = cell.formula {
                let unit = labels.unit(formula: formula, scale: cell.scale)
                // The unit's display factor is not applied to the data: a share of 0.221 has three decimals.
                let shift = Int(log10(unit.factor).rounded())
                measureUnit[v.measure] = .init(label: labels.text(unit.label, language) ?? "", decimals: unit.decimals + shift)
            }
        }

        let measures = Set(rows.map(\.value.measure)).sorted()
        let periods = Set(rows.map(\.value.period)).sorted()
        let regions = regionLevel.keys.sorted { (rank(levelRank, regionLevel[$0]!), regionCode[$0]!) < (rank(levelRank, regionLevel[$1]!), regionCode[$1]!) }
        let sexes = Set(rows.map(\.value.sex)).sorted { (rank(sexRank, $0), $0) < (rank(sexRank, $1), $1) }
        let categories = [measures, periods, regions, sexes, contentIds]
        let positions = categories.map { ids in Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) }) }
        let size = rows.isEmpty ? categories.dropLast().map { _ in 0 } + [contentIds.count] : categories.map(\.count)

        var value = [Double?](repeating: nil, count: size.reduce(1, *))
        var status: [String: String] = [:]
        let notApplicable = labels.statusSymbol(.undefined)
        for cell in rows {
            let v = cell.value
            let coordinates = [v.measure, v.period, regionId(level: v.level, unit: v.unit), v.sex]
            var base = 0
            for (d, id) in coordinates.enumerated() { base = base * size[d] + positions[d][id]! }
            base *= contentIds.count
            let contents: [Double?] = [v.value, v.numerator.map(Double.init), v.denominator.map(Double.init), v.ciLower, v.ciUpper]
            for (offset, content) in contents.enumerated() {
                value[base + offset] = content
                guard content == nil else { continue }
                // A suppressed cell is hidden whole; any other null is undefined or not applicable.
                status[String(base + offset)] = v.status == .ok || v.status == .undefined ? notApplicable : labels.statusSymbol(v.status)
            }
        }

        func labelled(_ d: Int, _ label: (String) -> String) -> JSONStatDataset.Category {
            .init(index: positions[d], label: Dictionary(uniqueKeysWithValues: categories[d].map { ($0, label($0)) }))
        }
        var measureCategory = labelled(0) { labels.measure(indicator: indicator, $0, language) }
        measureCategory.unit = measureUnit.isEmpty ? nil : measureUnit
        var regionCategory = labelled(2) { regionLabel[$0]! }
        let children = Dictionary(
            grouping: regions.filter { regionParent[$0].map { regionLevel[$0] != nil } ?? false },
            by: { regionParent[$0]! })
        regionCategory.child = children.isEmpty ? nil : children
        var contentsCategory = labelled(4) { labels.content($0, language) }
        let count = labels.unit(formula: .count, scale: nil)
        let countUnit = JSONStatDataset.Unit(label: labels.text(count.label, language) ?? "", decimals: count.decimals)
        contentsCategory.unit = ["numerator": countUnit, "denominator": countUnit]

        let dimensionLabels = [
            "measure": (nb: "Måltall", en: "Measure"), "period": (nb: "Periode", en: "Period"),
            "region": (nb: "Region", en: "Region"), "sex": (nb: "Kjønn", en: "Sex"),
            "contents": (nb: "Statistikkvariabel", en: "Contents"),
        ]
        let category: [String: JSONStatDataset.Category] = [
            "measure": measureCategory,
            "period": labelled(1) { labels.period($0, language) },
            "region": regionCategory,
            "sex": labelled(3) { labels.sex($0, language) },
            "contents": contentsCategory,
        ]
        var dimension: [String: JSONStatDataset.Dimension] = [:]
        for id in dimensionIds {
            let label = dimensionLabels[id]!
            dimension[id] = .init(
                label: language == .en ? label.en : label.nb, category: category[id]!,
                extension: id == "region" ? .init(level: regionLevel, code: regionCode) : nil)
        }
        var legend: [String: String] = [:]
        for s in [PublishedStatus.suppressedPrimary, .suppressedSecondary, .undefined] { legend[labels.statusSymbol(s)] = labels.status(s, language) }
        return JSONStatDataset(
            label: labels.indicator(indicator, language), source: labels.source(language),
            updated: rows.map(\.value.updatedAt).max(), note: labels.note(indicator, language).map { [$0] } ?? [],
            id: dimensionIds, size: size, role: .init(time: ["period"], geo: ["region"], metric: ["measure", "contents"]),
            dimension: dimension, value: value, status: status.isEmpty ? nil : status,
            extension: .init(
                indicator: indicator, language: language.rawValue, status: legend,
                evaluationDate: rows.map(\.value.asOf.description).max(), revision: revision))
    }
}
