import NPRCore

/// What one patient bucket's stays add to one institution's end-type figures.
struct StayEndTypeCounts: Hashable, Sendable {
    var closedStays = 0
    var withoutEndType = 0

    /// Per institution of the last episode: the bucket's closed treatment stays that §1 counts (whose last
    /// episode is a current TSB episode, Measures decision 6), and those without an end type. Any age: this is
    /// the quality of the reporting, not the indicator's population.
    static func of(_ state: PatientCalcState) -> [String: StayEndTypeCounts] {
        var counts: [String: StayEndTypeCounts] = [:]
        for stay in state.stays where stay.kind == .treatment && stay.isClosed && state.tsbEpisode(stay.lastEpisode) != nil {
            counts[stay.institutionId, default: StayEndTypeCounts()].closedStays += 1
            if stay.endType == nil { counts[stay.institutionId]!.withoutEndType += 1 }
        }
        return counts
    }
}

/// Running per-institution totals of closed treatment stays and those without an end type, with the distinct
/// patient buckets behind them (for suppression). A bucket's part is replaced whole when its stays change.
public struct StayEndTypeTally: Sendable {
    struct Totals: Hashable, Sendable { var closedStays = 0, withoutEndType = 0, patients = 0 }
    /// By institution id; an institution without closed stays has no entry.
    private(set) var institutions: [String: Totals] = [:]
    /// Whether anything moved since the last `takeRowsIfChanged`.
    private var changed = false

    public init() {}

    mutating func replace(_ before: [String: StayEndTypeCounts], with after: [String: StayEndTypeCounts]) {
        guard before != after else { return }
        changed = true
        for (institution, counts) in before {
            institutions[institution]!.closedStays -= counts.closedStays
            institutions[institution]!.withoutEndType -= counts.withoutEndType
            institutions[institution]!.patients -= 1
            if institutions[institution]!.patients == 0 { institutions[institution] = nil }
        }
        for (institution, counts) in after {
            institutions[institution, default: Totals()].closedStays += counts.closedStays
            institutions[institution]!.withoutEndType += counts.withoutEndType
            institutions[institution]!.patients += 1
        }
    }

    /// The published rows, by institution id.
    public var rows: [StayEndTypeRow] {
        institutions.sorted { $0.key < $1.key }.map {
            StayEndTypeRow(
                institutionId: $0.key, closedStays: $0.value.closedStays, withoutEndType: $0.value.withoutEndType,
                patients: $0.value.patients)
        }
    }

    /// The rows when something moved since the last call; nil otherwise.
    public mutating func takeRowsIfChanged() -> [StayEndTypeRow]? {
        guard changed else { return nil }
        changed = false
        return rows
    }
}
