import Foundation
import NPRCore

/// A language of the labels: Norwegian bokmål first, English second.
public enum Language: String, CaseIterable, Codable, Sendable {
    case nb, en

    /// The language a `lang` query parameter asks for (`nb`, `no`, `nb-NO`, `en`, `en-GB`, …); bokmål otherwise.
    public init(query: String?) {
        let primary = query?.lowercased().split(whereSeparator: { $0 == "-" || $0 == "_" }).first.map(String.init)
        self = primary == "en" ? .en : .nb
    }
}

/// The labels of everything published, in bokmål and English (`Resources/labels.json`): the one catalogue the
/// dashboard, JSON-stat, CSV and the OpenAPI descriptions read. Ids without an entry are shown as they are.
public struct LabelCatalogue: Decodable, Sendable {
    /// A text per language code.
    public typealias Text = [String: String]

    public struct IndicatorLabels: Decodable, Sendable {
        public var label: Text
        public var note: Text
    }
    /// How values of one unit are shown: multiplied by `factor`, with `decimals` decimals, then `symbol`.
    public struct UnitLabels: Decodable, Sendable {
        public var label: Text
        public var decimals: Int
        public var factor: Double
        public var symbol: String
    }
    public struct StatusLabels: Decodable, Sendable {
        public var symbol: String
        public var label: Text
    }

    public var languages: [String]
    public var source: Text
    public var indicators: [String: IndicatorLabels]
    /// Per indicator: measure id or template (`diagnose-{group}-{diagnosisStatistic}`) → label (with the same
    /// placeholders, filled from `parts`).
    public var measures: [String: [String: Text]]
    public var parts: [String: [String: Text]]
    public var units: [String: UnitLabels]
    public var contents: [String: Text]
    public var levels: [String: Text]
    public var sexes: [String: Text]
    public var periods: [String: Text]
    public var regions: [String: Text]
    public var statuses: [String: StatusLabels]
    /// Provenance kinds (`Provenance.Kind`), as /v1/history and the SSE events name them.
    public var causes: [String: Text]

    /// The catalogue's JSON as shipped (served at `GET /v1/labels`, embedded in the dashboard).
    public static let json: Data = {
        guard let url = Bundle.module.url(forResource: "labels", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            fatalError("labels.json is missing from the Publishing resources")
        }
        return data
    }()

    /// The catalogue shipped with the module.
    public static let shared: LabelCatalogue = {
        do { return try JSONDecoder().decode(LabelCatalogue.self, from: json) } catch { fatalError("labels.json does not decode: \(error)") }
    }()

    func text(_ t: Text?, _ language: Language) -> String? { t?[language.rawValue] ?? t?[Language.nb.rawValue] }

    public func indicator(_ id: String, _ language: Language) -> String { text(indicators[id]?.label, language) ?? id }
    public func note(_ id: String, _ language: Language) -> String? { text(indicators[id]?.note, language) }
    public func source(_ language: Language) -> String { text(source, language) ?? "" }
    public func level(_ id: String, _ language: Language) -> String { text(levels[id], language) ?? id }
    public func sex(_ id: String, _ language: Language) -> String { text(sexes[id], language) ?? id }
    public func content(_ id: String, _ language: Language) -> String { text(contents[id], language) ?? id }
    public func statusSymbol(_ status: PublishedStatus) -> String { statuses[status.rawValue]?.symbol ?? status.rawValue }
    public func status(_ status: PublishedStatus, _ language: Language) -> String {
        text(statuses[status.rawValue]?.label, language) ?? status.rawValue
    }

    /// `2024` → «2024»; `2024-T1` → «1. tertial 2024» (en: «Tertial 1 2024»).
    public func period(_ id: String, _ language: Language) -> String {
        guard let period = Period(id) else { return id }
        switch period {
        case .year(let y): return fill(text(periods["year"], language) ?? "{year}", ["year": String(y)])
        case .tertial(let y, let t):
            return fill(text(periods["tertial"], language) ?? "{year}-T{tertial}", ["year": String(y), "tertial": String(t)])
        }
    }

    /// A region's name: the catalogue's for the nation, else the published unit name, else the code.
    public func region(unit: String, unitName: String?, _ language: Language) -> String {
        text(regions[unit], language) ?? unitName ?? unit
    }

    /// The measure's label: its own entry, else the first template whose placeholders match part ids.
    public func measure(indicator: String, _ id: String, _ language: Language) -> String {
        guard let table = measures[indicator] else { return id }
        if let own = text(table[id], language) { return own }
        for (template, label) in table.sorted(by: { $0.key < $1.key }) where template.contains("{") {
            if let bindings = match(template: template[...], id: id[...]), let label = text(label, language) {
                return fill(label, bindings.mapValues { text(parts[$0.part]?[$0.id], language) ?? $0.id })
            }
        }
        return id
    }

    /// The key of `units` for a cell's formula and scale.
    public static func unitKey(formula: ValueFormula, scale: Double?) -> String {
        switch formula {
        case .count: return "count"
        case .share: return "share"
        case .ratio: return "ratio"
        case .excessMortality: return "excess-mortality"
        case .rate: return scale.map { "rate-\(Int($0))" } ?? "ratio"
        }
    }

    public func unit(formula: ValueFormula, scale: Double?) -> UnitLabels {
        units[Self.unitKey(formula: formula, scale: scale)]
            ?? UnitLabels(label: [:], decimals: 3, factor: 1, symbol: "")
    }

    /// Binds each `{part}` of `template` to an id of that part so that the filled template equals `id`
    /// (ids may contain `-`, so every candidate is tried).
    private func match(template: Substring, id: Substring) -> [String: (part: String, id: String)]? {
        guard let open = template.firstIndex(of: "{") else { return template == id ? [:] : nil }
        let literal = template[..<open]
        guard id.hasPrefix(literal), let close = template[open...].firstIndex(of: "}") else { return nil }
        let part = String(template[template.index(after: open)..<close])
        let rest = template[template.index(after: close)...]
        let remaining = id.dropFirst(literal.count)
        for candidate in (parts[part] ?? [:]).keys.sorted() where remaining.hasPrefix(candidate) {
            if var bindings = match(template: rest, id: remaining.dropFirst(candidate.count)) {
                bindings[part] = (part, candidate)
                return bindings
            }
        }
        return nil
    }

    private func fill(_ text: String, _ values: [String: String]) -> String {
        values.reduce(text) { $0.replacingOccurrences(of: "{\($1.key)}", with: $1.value) }
    }
}
