import NPRCore

/// Cells are numbered once per engine, so patients keep their contributions as small arrays of ids
/// instead of dictionaries keyed by strings.
typealias CellId = Int32

/// Numbers the cells and finds them without building keys. A cell is a measure (`MeasureId`) in a row;
/// a row is a period at a place. Finding a cell is one hash lookup per row and an array access per
/// measure; the `CellKey` (strings) is built once, when the cell first appears.
struct CellDirectory: Sendable {
    typealias PlaceId = Int32
    typealias RowId = Int32

    private var placeIds: [CellPlace: PlaceId] = [:]
    private var places: [CellPlace] = []
    private var bostedPlaces: [RHF: PlaceId] = [:]
    /// Row by `rowKey(period, place)`.
    private var rowIds: [Int: RowId] = [:]
    private var rows: [(period: Period, place: PlaceId)] = []
    /// Cell ids of row r at `r * measureCount + measure`; -1 where the cell has not appeared yet.
    private var rowCells: [CellId] = []
    private let measureCount = MeasureTable.shared.measures.count

    private(set) var ids: [CellKey: CellId] = [:]
    /// By `CellId`.
    private(set) var keys: [CellKey] = []

    /// The place of every national cell.
    let national: PlaceId

    init() {
        national = 0
        placeIds[.national] = national
        places = [.national]
    }

    mutating func place(_ place: CellPlace) -> PlaceId {
        if let id = placeIds[place] { return id }
        let id = PlaceId(places.count)
        placeIds[place] = id
        places.append(place)
        return id
    }

    /// The `bosted-rhf` place of `rhf` (cached by region: it is asked for every episode).
    mutating func bostedPlace(_ rhf: RHF) -> PlaceId {
        if let id = bostedPlaces[rhf] { return id }
        let id = place(.bosted(rhf))
        bostedPlaces[rhf] = id
        return id
    }

    mutating func row(_ period: Period, _ place: PlaceId) -> RowId {
        let key = Self.rowKey(period, place)
        if let id = rowIds[key] { return id }
        let id = RowId(rows.count)
        rowIds[key] = id
        rows.append((period, place))
        rowCells.append(contentsOf: repeatElement(-1, count: measureCount))
        return id
    }

    /// The cell of `measure` in `row`, numbered on first sight.
    mutating func cell(_ measure: MeasureId, _ row: RowId) -> CellId {
        let slot = Int(row) * measureCount + measure
        let id = rowCells[slot]
        if id >= 0 { return id }
        let entry = MeasureTable.shared.measures[measure]
        let (period, placeId) = rows[Int(row)]
        let place = places[Int(placeId)]
        let key = CellKey(indicator: entry.indicator, measure: entry.name, period: period, level: place.level, unit: place.unit)
        let newId = append(key)
        rowCells[slot] = newId
        return newId
    }

    /// The id of any key, numbered on first sight (a restore re-reports keys the new state may lack).
    mutating func id(_ key: CellKey) -> CellId {
        if let id = ids[key] { return id }
        guard key.sex == .all, let measure = MeasureTable.shared.id(key.indicator, name: key.measure) else {
            return append(key)   // no contribution can address it, so it needs no row
        }
        return cell(measure, row(key.period, place(CellPlace(level: key.level, unit: key.unit))))
    }

    private mutating func append(_ key: CellKey) -> CellId {
        let id = CellId(keys.count)
        ids[key] = id
        keys.append(key)
        return id
    }

    /// Year and tertial in the high bits (years are 1…9999), the place in the low 32.
    private static func rowKey(_ period: Period, _ place: PlaceId) -> Int {
        let code: Int
        switch period {
        case .year(let y): code = y * 4
        case .tertial(let y, let t): code = y * 4 + t
        }
        return code << 32 | Int(UInt32(bitPattern: place))
    }
}

/// A patient's contribution to one numbered cell.
struct InternedContribution: Hashable, Sendable {
    var cell: CellId
    var numerator: Int32
    var denominator: Int32
    var contribution: Contribution { Contribution(numerator: Int(numerator), denominator: Int(denominator)) }
}

/// Accumulates one patient's contributions, dense by cell id so that each addition is an array access.
/// Reused from patient to patient: only the touched cells are reset. Nothing is recorded for a zero
/// part, so a cell exists only where some record really contributes (Measures decision 2).
struct ContributionAccumulator: Sendable {
    /// Index in `contributions` by cell id; `absent` where untouched, `claimed` once `claim` took it.
    private var slots: [Int32] = []
    /// The touched cells in first-touch order.
    private(set) var contributions: [InternedContribution] = []
    private static let absent: Int32 = -1, claimed: Int32 = -2

    /// Adds to a count or to both parts of a share.
    mutating func add(_ cell: CellId, numerator: Int, denominator: Int = 0) {
        guard numerator != 0 || denominator != 0 else { return }
        update(cell) { $0.numerator += Int32(numerator); $0.denominator += Int32(denominator) }
    }

    /// Marks the patient in a distinct-patient count or rate.
    mutating func addPatient(_ cell: CellId) {
        update(cell) { $0.numerator = 1 }
    }

    /// Marks the patient in the denominator of a patient share, and in its numerator when `qualifies`.
    mutating func addPatient(_ cell: CellId, qualifies: Bool) {
        update(cell) { $0.denominator = 1; if qualifies { $0.numerator = 1 } }
    }

    /// Adds contacts to a per-patient ratio: contacts over the (one) patient.
    mutating func addPerPatient(_ cell: CellId, contacts: Int) {
        update(cell) { $0.numerator += Int32(contacts); $0.denominator = 1 }
    }

    @inline(__always)
    private mutating func update(_ cell: CellId, _ change: (inout InternedContribution) -> Void) {
        let c = Int(cell)
        if c >= slots.count { slots.append(contentsOf: repeatElement(Self.absent, count: c - slots.count + 1)) }
        var index = Int(slots[c])
        if index < 0 {
            index = contributions.count
            slots[c] = Int32(index)
            contributions.append(InternedContribution(cell: cell, numerator: 0, denominator: 0))
        }
        change(&contributions[index])
    }

    /// The accumulated contribution to `cell`, if any, marking it as matched (see `unclaimed`).
    mutating func claim(_ cell: CellId) -> InternedContribution? {
        let c = Int(cell)
        guard c < slots.count, slots[c] >= 0 else { return nil }
        let contribution = contributions[Int(slots[c])]
        slots[c] = Self.claimed
        return contribution
    }

    /// Whether `claim` has taken the contribution to `cell`.
    func isClaimed(_ cell: CellId) -> Bool { slots[Int(cell)] == Self.claimed }

    /// Forgets everything, keeping the capacity for the next patient.
    mutating func reset() {
        for c in contributions { slots[Int(c.cell)] = Self.absent }
        contributions.removeAll(keepingCapacity: true)
    }
}
