import Foundation
import NPRCore

/// A JSON-stat 2.0 dataset (https://json-stat.org/format/) of one indicator's published values.
public struct JSONStatDataset: Encodable, Sendable, Hashable {
    public struct Category: Encodable, Sendable, Hashable {
        /// Category id → position in the dimension.
        public var index: [String: Int]
        public var label: [String: String]
    }

    public struct Dimension: Encodable, Sendable, Hashable {
        public var label: String
        public var category: Category
    }

    public struct Role: Encodable, Sendable, Hashable {
        public var time: [String]
        public var geo: [String]
        public var metric: [String]
    }

    public let version = "2.0"
    public let kind = "dataset"
    public var label: String
    /// Dimension ids in the order of `size` and of the value array's row-major layout.
    public var id: [String]
    public var size: [Int]
    public var role: Role
    public var dimension: [String: Dimension]
    /// Dense, row-major (last dimension fastest); null for missing and suppressed cells.
    public var value: [Double?]
    /// Value position (as a string) → status symbol, for every cell that is not `ok`; nil when there is none.
    public var status: [String: String]?
    /// The latest `updatedAt` of the values (ISO 8601); nil for an empty dataset.
    public var updated: String?

    enum CodingKeys: String, CodingKey {
        case version, kind = "class", label, id, size, role, dimension, value, status, updated
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
    public static let dimensionIds = ["measure", "period", "level", "unit", "sex"]

    /// Lays `values` of `indicator` (others are ignored) out as a JSON-stat cube over the categories that
    /// occur. Categories are ordered: measures and periods as strings, levels and sexes in their declared
    /// order (national first; all, male, female), units by their first level, then code.
    public static func dataset(indicator: String, values: [PublishedValue], label: String? = nil) -> JSONStatDataset {
        let rows = values.filter { $0.indicator == indicator }
        let levelRank = Dictionary(uniqueKeysWithValues: Level.allCases.enumerated().map { ($1.rawValue, $0) })
        let sexRank = Dictionary(uniqueKeysWithValues: Sex.allCases.enumerated().map { ($1.rawValue, $0) })
        func rank(_ table: [String: Int], _ id: String) -> Int { table[id] ?? table.count }

        var unitOrder: [String: (Int, String)] = [:]
        var unitLabels: [String: String] = [:]
        for row in rows {
            let candidate = (rank(levelRank, row.level), row.unit)
            if unitOrder[row.unit].map({ candidate < $0 }) ?? true { unitOrder[row.unit] = candidate }
            if let name = row.unitName, unitLabels[row.unit] == nil { unitLabels[row.unit] = name }
        }

        let measures = Set(rows.map(\.measure)).sorted()
        let periods = Set(rows.map(\.period)).sorted()
        let levels = Set(rows.map(\.level)).sorted { (rank(levelRank, $0), $0) < (rank(levelRank, $1), $1) }
        let units = unitOrder.keys.sorted { unitOrder[$0]! < unitOrder[$1]! }
        let sexes = Set(rows.map(\.sex)).sorted { (rank(sexRank, $0), $0) < (rank(sexRank, $1), $1) }
        let categories = [measures, periods, levels, units, sexes]
        let positions = categories.map { ids in Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) }) }
        let size = categories.map(\.count)

        var value = [Double?](repeating: nil, count: size.reduce(1, *))
        var status: [String: String] = [:]
        for row in rows {
            let coordinates = [row.measure, row.period, row.level, row.unit, row.sex]
            var position = 0
            for (d, id) in coordinates.enumerated() { position = position * size[d] + positions[d][id]! }
            value[position] = row.value
            if row.status != .ok { status[String(position)] = row.status.rawValue }
        }

        var dimension: [String: JSONStatDataset.Dimension] = [:]
        for (d, id) in dimensionIds.enumerated() {
            let labels = id == "unit" ? unitLabels : [:]
            dimension[id] = .init(label: id, category: .init(
                index: positions[d],
                label: Dictionary(uniqueKeysWithValues: categories[d].map { ($0, labels[$0] ?? $0) })))
        }
        return JSONStatDataset(label: label ?? indicator, id: dimensionIds, size: size,
                               role: .init(time: ["period"], geo: ["unit"], metric: ["measure"]),
                               dimension: dimension, value: value, status: status.isEmpty ? nil : status,
                               updated: rows.map(\.updatedAt).max())
    }
}
