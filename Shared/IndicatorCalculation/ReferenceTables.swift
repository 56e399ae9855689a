import NPRCore

/// What a cell's content depends on besides its patients' contributions: the register entry behind its
/// name and parent, or the population behind its rate. Lets a reference change mark only those cells.
enum CellDependency: Hashable, Sendable {
    case unit(String)
    case hf(String)
    case adults(year: Int, area: String)

    static func of(_ key: CellKey) -> [CellDependency] {
        var result: [CellDependency] = []
        switch key.level {
        case .unit: result.append(.unit(key.unit))
        case .hf: result.append(.hf(key.unit))
        default: break
        }
        if MeasureCatalogue.shape(of: key)?.formula == .rate {
            result.append(.adults(year: key.period.year, area: key.unit))
        }
        return result
    }
}

/// The unit register as the calculator sees it: upserts keyed by `unitId`, and each HF's name and RHF.
public struct UnitRegister: Sendable, Hashable {
    public private(set) var units: [String: Unit] = [:]
    private var unitIdsByHF: [String: Set<String>] = [:]

    public init(_ units: [Unit] = []) { for u in units { upsert(u) } }

    public subscript(unitId: String) -> Unit? { units[unitId] }

    /// The unit that speaks for an HF (its `hfName` and `rhf`): the one with the smallest `unitId`,
    /// whatever the arrival order (Measures decision 5).
    public func representative(ofHF hfId: String) -> Unit? {
        unitIdsByHF[hfId]?.min().flatMap { units[$0] }
    }

    /// Stores `unit`; returns the cell metadata that changed (nil when the entry is unchanged).
    @discardableResult
    mutating func upsert(_ unit: Unit) -> Set<CellDependency>? {
        let old = units[unit.unitId]
        guard old != unit else { return nil }
        let affectedHFs = Array(Set([old?.hfId, unit.hfId].compactMap { $0 }))
        let before = affectedHFs.map { hfMetadata($0) }
        if let old { unitIdsByHF[old.hfId]?.remove(old.unitId) }
        units[unit.unitId] = unit
        unitIdsByHF[unit.hfId, default: []].insert(unit.unitId)

        var changed: Set<CellDependency> = []
        if old?.name != unit.name || old?.hfId != unit.hfId { changed.insert(.unit(unit.unitId)) }
        for (hf, previous) in zip(affectedHFs, before) where hfMetadata(hf) != previous { changed.insert(.hf(hf)) }
        return changed
    }

    private func hfMetadata(_ hfId: String) -> [String] {
        representative(ofHF: hfId).map { [$0.hfName, $0.rhf.rawValue] } ?? []
    }
}

/// Population counts (upserts keyed `year|municipality|sex|age`) and their totals aged ≥ 18 per year,
/// nationally (`NO`) and per RHF of the municipality: the denominators of the per-10 000 rates.
public struct PopulationTable: Sendable, Hashable {
    public private(set) var rows: [String: PopulationEvent] = [:]
    private var adults: [AdultArea: Int] = [:]

    struct AdultArea: Hashable, Sendable {
        var year: Int
        var area: String
    }

    public init(_ rows: [PopulationEvent] = []) { for r in rows { upsert(r) } }

    /// Persons aged 18 or over on 1 January of `year` in `area` (`NO` or an RHF code).
    public func adults(year: Int, area: String) -> Int { adults[AdultArea(year: year, area: area)] ?? 0 }

    /// Stores `row`; returns the rate dependencies whose totals changed (nil when the row is unchanged).
    @discardableResult
    mutating func upsert(_ row: PopulationEvent) -> Set<CellDependency>? {
        let old = rows[row.key]
        guard old != row else { return nil }
        rows[row.key] = row
        guard row.age >= 18 else { return [] }
        let delta = row.count - (old?.count ?? 0)
        guard delta != 0 else { return [] }
        var areas = ["NO"]
        if let rhf = MunicipalityRegister.region(of: row.municipality)?.rhf { areas.append(rhf.rawValue) }
        var changed: Set<CellDependency> = []
        for area in areas {
            adults[AdultArea(year: row.year, area: area), default: 0] += delta
            changed.insert(.adults(year: row.year, area: area))
        }
        return changed
    }
}
