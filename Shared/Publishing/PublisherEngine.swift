import NPRCore

/// The publisher's pure core: holds the current cells from `npr.cells`, turns them into published values
/// (value, primary and secondary suppression) and keeps each key's revision.
///
/// Suppression links cells only within one (indicator, measure, sex, year): all levels and periods of that
/// year. `apply` marks that component as touched; `publish` recomputes touched components only, so the cost
/// of an update depends on its component's size, never on the whole state.
public struct PublisherEngine: Sendable {
    /// The unit of recomputation: groups of secondary suppression never cross it.
    struct Component: Hashable, Comparable, Sendable {
        var indicator: Indicator
        var measure: String
        var sex: Sex
        var year: Int

        init(_ key: CellKey) {
            indicator = key.indicator
            measure = key.measure
            sex = key.sex
            year = key.period.year
        }

        static func < (a: Component, b: Component) -> Bool {
            (a.indicator.rawValue, a.measure, a.sex.rawValue, a.year) < (b.indicator.rawValue, b.measure, b.sex.rawValue, b.year)
        }
    }

    /// One key's state: its current cell, what was last published for it, and its revision. After the cell
    /// is gone and its removal published, the slot stays as a tombstone holding the last revision, so a key
    /// that comes back continues counting. A service persists one row per slot (`takeStateChanges`) and
    /// restores with `init(slots:)`.
    public struct Slot: Codable, Sendable {
        var key: CellKey
        var cell: Cell?
        var published: PublishedContent?
        /// The revision last published under this key (0: never published).
        var revision: Int
        var updatedAt: String?

        init(key: CellKey) {
            self.key = key
            revision = 0
        }

        var isEmpty: Bool { cell == nil && published == nil && revision == 0 }

        var publishedValue: PublishedValue? {
            guard let p = published else { return nil }
            return PublishedValue(
                indicator: key.indicator.rawValue, measure: key.measure, period: key.period.description,
                level: key.level.rawValue, unit: key.unit, unitName: p.unitName, sex: key.sex.rawValue,
                numerator: p.numerator, denominator: p.denominator, value: p.value,
                ciLower: p.ciLower, ciUpper: p.ciUpper, status: p.status, revision: revision,
                asOf: p.asOf, updatedAt: updatedAt ?? "")
        }

        // The key is stored once, as its string; the cell carries it again only when present.
        enum CodingKeys: String, CodingKey { case key, cell, published, revision, updatedAt }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let text = try c.decode(String.self, forKey: .key)
            guard let key = CellKey(string: text) else {
                throw DecodingError.dataCorruptedError(forKey: .key, in: c, debugDescription: "not a cell key: \(text)")
            }
            self.key = key
            cell = try c.decodeIfPresent(Cell.self, forKey: .cell)
            published = try c.decodeIfPresent(PublishedContent.self, forKey: .published)
            revision = try c.decode(Int.self, forKey: .revision)
            updatedAt = try c.decodeIfPresent(String.self, forKey: .updatedAt)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(key.string, forKey: .key)
            try c.encodeIfPresent(cell, forKey: .cell)
            try c.encodeIfPresent(published, forKey: .published)
            try c.encode(revision, forKey: .revision)
            try c.encodeIfPresent(updatedAt, forKey: .updatedAt)
        }
    }

    private var components: [Component: [CellKey: Slot]] = [:]
    /// Components with cell changes not yet published.
    private var touched: Set<Component> = []
    /// Keys whose slot changed since the last `takeStateChanges`.
    private var dirtyKeys: Set<CellKey> = []
    /// Causes of the cell changes not yet published, per key and per component (`publishedCauses`).
    private var causesByKey: [CellKey: Provenance] = [:]
    private var causesByComponent: [Component: Provenance] = [:]
    /// What caused each change the last `publish` reported, by value key: the causes of its own cell's
    /// changes, or, when only its status moved (secondary suppression), those of its component's changes.
    public private(set) var publishedCauses: [String: Provenance] = [:]

    public init() {}

    /// The engine whose slots `takeStateChanges` reported (the latest per key), with nothing pending.
    public init(slots: [Slot]) {
        for slot in slots { components[Component(slot.key), default: [:]][slot.key] = slot }
    }

    /// Slots changed since the last call, by key string (nil: the slot is gone): storing each as the latest
    /// row of its key keeps a store equal to the engine, at a cost proportional to the change. Call after
    /// `publish`: cell changes not yet published are not part of the persisted state.
    public mutating func takeStateChanges() -> [(key: String, slot: Slot?)] {
        precondition(touched.isEmpty, "publish before taking the state changes")
        defer { dirtyKeys = [] }
        return dirtyKeys.map { (key: $0.string, slot: components[Component($0)]?[$0]) }.sorted { $0.key < $1.key }
    }

    /// Records a cell's new absolute content (or its removal), and what caused it. Redelivering the current
    /// content is a no-op.
    public mutating func apply(_ update: CellUpdate, causes: Provenance = Provenance()) {
        let component = Component(update.key)
        var cell = update.cell
        cell?.key = update.key
        var slot = components[component]?[update.key] ?? Slot(key: update.key)
        guard slot.cell != cell else { return }
        if !causes.isEmpty {
            causesByKey[update.key, default: Provenance()].add(causes)
            causesByComponent[component, default: Provenance()].add(causes)
        }
        slot.cell = cell
        store(slot, in: component)
        touched.insert(component)
    }

    /// Recomputes the touched components; returns the values whose published content changed (revision
    /// +1, `updatedAt` = `now`) and the keys that disappeared. Unchanged recomputations return nothing.
    /// Output is ordered by component, then key, so equal inputs give equal outputs.
    public mutating func publish(now: String) -> (changed: [PublishedValue], removed: [String]) {
        var changed: [PublishedValue] = []
        var removed: [String] = []
        publishedCauses = [:]
        for component in touched.sorted() {
            let componentCauses = causesByComponent.removeValue(forKey: component)
            guard let slots = components[component] else { continue }
            let contents = Self.contents(of: slots.values.compactMap(\.cell))
            for (keyText, key) in slots.keys.map({ ($0.string, $0) }).sorted(by: { $0.0 < $1.0 }) {
                var slot = slots[key]!
                let content = contents[key]
                let ownCauses = causesByKey.removeValue(forKey: key)
                guard content != slot.published else { continue }
                if let causes = ownCauses ?? componentCauses { publishedCauses[keyText] = causes }
                slot.published = content
                if content == nil {
                    removed.append(keyText)
                } else {
                    slot.revision += 1
                    slot.updatedAt = now
                    changed.append(slot.publishedValue!)
                }
                store(slot, in: component)
            }
            dropEmptySlots(of: component)
        }
        touched = []
        return (changed, removed)
    }

    /// The keys that currently have a cell.
    public var cellKeys: [CellKey] { components.values.flatMap { $0.values.filter { $0.cell != nil }.map(\.key) } }

    /// Current published values matching every given filter (nil: any), ordered by key.
    public func values(
        indicator: String? = nil, measure: String? = nil, period: String? = nil, level: String? = nil,
        unit: String? = nil, sex: String? = nil
    ) -> [PublishedValue] {
        cells(indicator: indicator, measure: measure, period: period, level: level, unit: unit, sex: sex).map(\.value)
    }

    /// As `values`, each with how it is valued and where it sits in the hierarchy (for the statistical views).
    public func cells(
        indicator: String? = nil, measure: String? = nil, period: String? = nil, level: String? = nil,
        unit: String? = nil, sex: String? = nil
    ) -> [PublishedCell] {
        var result: [(String, PublishedCell)] = []
        for (component, slots) in components {
            if let indicator, component.indicator.rawValue != indicator { continue }
            if let measure, component.measure != measure { continue }
            if let sex, component.sex.rawValue != sex { continue }
            for slot in slots.values {
                let k = slot.key
                if let period, k.period.description != period { continue }
                if let level, k.level.rawValue != level { continue }
                if let unit, k.unit != unit { continue }
                if let value = slot.publishedValue {
                    result.append(
                        (
                            k.string,
                            PublishedCell(
                                value: value, formula: slot.cell?.formula, scale: slot.cell?.scale,
                                parent: slot.cell?.parent)
                        ))
                }
            }
        }
        return result.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The published content of one component's cells: value and primary status per cell, then secondary
    /// suppression over the whole component.
    static func contents(of cells: [Cell]) -> [CellKey: PublishedContent] {
        var contents: [CellKey: PublishedContent] = [:]
        var members: [SecondarySuppression.Member] = []
        for cell in cells {
            let content = PublishedContent(cell: cell)
            contents[cell.key] = content
            members.append(.init(key: cell.key, size: cell.size, parent: cell.parent, suppressed: content.isSuppressed))
        }
        for key in SecondarySuppression.picks(among: members) {
            contents[key] = contents[key]!.hidden(as: .suppressedSecondary)
        }
        return contents
    }

    private mutating func store(_ slot: Slot, in component: Component) {
        components[component, default: [:]][slot.key] = slot
        dirtyKeys.insert(slot.key)
    }

    /// Forgets keys that were never published and have no cell (applied and withdrawn between two publishes).
    private mutating func dropEmptySlots(of component: Component) {
        guard var slots = components[component] else { return }
        slots = slots.filter { !$0.value.isEmpty }
        components[component] = slots.isEmpty ? nil : slots
    }
}

/// A published value with what the statistical views need beside it: its formula and scale (the unit) and its
/// parent's unit code in the level hierarchy. The cell is nil only between a withdrawal and its publication.
public struct PublishedCell: Sendable, Hashable {
    public var value: PublishedValue
    public var formula: ValueFormula?
    public var scale: Double?
    public var parent: String?

    public init(value: PublishedValue, formula: ValueFormula?, scale: Double?, parent: String?) {
        self.value = value
        self.formula = formula
        self.scale = scale
        self.parent = parent
    }
}
