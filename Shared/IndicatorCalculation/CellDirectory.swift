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
            return append(key)  // no contribution can address it, so it needs no row
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

/// A patient's standing in one cell, summed over its sources: the additive parts, and how many sources
/// mark the patient (a marked patient counts once, however many of its sources mark it). Parts are
/// never negative, so a share contributes exactly when it is not empty.
struct CellShare: Hashable, Sendable {
    var cell: CellId
    var numerator: Int32 = 0
    var denominator: Int32 = 0
    var numeratorMarks: Int32 = 0
    var denominatorMarks: Int32 = 0

    init(cell: CellId) { self.cell = cell }

    var contribution: Contribution {
        Contribution(
            numerator: Int(numerator) + (numeratorMarks > 0 ? 1 : 0),
            denominator: Int(denominator) + (denominatorMarks > 0 ? 1 : 0))
    }

    var isEmpty: Bool { numerator == 0 && denominator == 0 && numeratorMarks == 0 && denominatorMarks == 0 }

    /// Adds `other`'s parts, times `sign`.
    mutating func add(_ other: CellShare, sign: Int32 = 1) {
        numerator += sign * other.numerator
        denominator += sign * other.denominator
        numeratorMarks += sign * other.numeratorMarks
        denominatorMarks += sign * other.denominatorMarks
    }
}

/// Accumulates contributions (a patient's, or the difference a change makes to them) by cell, dense by
/// cell id so that each addition is an array access. Reused from patient to patient: only the touched
/// cells are reset. Nothing is recorded for a zero part, so a cell exists only where some record really
/// contributes (Measures decision 2).
struct ContributionAccumulator: Sendable {
    /// +1 while adding sources, -1 while retracting them.
    var sign: Int32 = 1
    /// Index in `shares` by cell id; `untouched`, or `claimed` once `claim` took the share.
    private var slots: [Int32] = []
    private static let untouched: Int32 = -1, claimed: Int32 = -2
    /// The touched cells in first-touch order.
    private(set) var shares: [CellShare] = []

    /// Adds to a count or to both parts of a share.
    mutating func add(_ cell: CellId, numerator: Int, denominator: Int = 0) {
        guard numerator != 0 || denominator != 0 else { return }
        let (n, d) = (sign * Int32(numerator), sign * Int32(denominator))
        update(cell) {
            $0.numerator += n
            $0.denominator += d
        }
    }

    /// Marks the patient in a distinct-patient count or rate.
    mutating func addPatient(_ cell: CellId) {
        let s = sign
        update(cell) { $0.numeratorMarks += s }
    }

    /// Marks the patient in the denominator of a patient share, and in its numerator when `qualifies`.
    mutating func addPatient(_ cell: CellId, qualifies: Bool) {
        let s = sign
        update(cell) {
            $0.denominatorMarks += s
            if qualifies { $0.numeratorMarks += s }
        }
    }

    /// Adds contacts to a per-patient ratio: contacts over the (one) patient.
    mutating func addPerPatient(_ cell: CellId, contacts: Int) {
        let (s, n) = (sign, sign * Int32(contacts))
        update(cell) {
            $0.numerator += n
            $0.denominatorMarks += s
        }
    }

    /// Takes a stored share away (to replace it by a recomputation).
    mutating func subtract(_ share: CellShare) {
        update(share.cell) { $0.add(share, sign: -1) }
    }

    @inline(__always)
    private mutating func update(_ cell: CellId, _ change: (inout CellShare) -> Void) {
        let c = Int(cell)
        if c >= slots.count { slots.append(contentsOf: repeatElement(Self.untouched, count: c - slots.count + 1)) }
        var index = Int(slots[c])
        if index < 0 {
            index = shares.count
            slots[c] = Int32(index)
            shares.append(CellShare(cell: cell))
        }
        change(&shares[index])
    }

    /// The accumulated share of `cell`, if any, marking it as taken (see `isClaimed`).
    mutating func claim(_ cell: CellId) -> CellShare? {
        let c = Int(cell)
        guard c < slots.count, slots[c] >= 0 else { return nil }
        defer { slots[c] = Self.claimed }
        return shares[Int(slots[c])]
    }

    /// Whether `claim` has taken the share of `cell`.
    func isClaimed(_ cell: CellId) -> Bool { slots[Int(cell)] == Self.claimed }

    /// Forgets everything, keeping the capacity for the next patient.
    mutating func reset() {
        for share in shares { slots[Int(share.cell)] = Self.untouched }
        shares.removeAll(keepingCapacity: true)
        sign = 1
    }
}
