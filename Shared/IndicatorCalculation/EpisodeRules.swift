import NPRCore

/// The days an inpatient episode occupies for the period rules (indicators.md, common rules): from its
/// start date to its end date or, while open, to the evaluation date (never before its start, Measures
/// decision 3).
struct InpatientSpan: Hashable, Sendable {
    let first: LocalDate
    let last: LocalDate

    init(_ episode: Episode, asOf: LocalDate) {
        first = episode.start.date
        last = episode.end?.date ?? max(asOf, first)
    }

    /// Every year and tertial the span overlaps.
    var periods: [Period] {
        var result = (first.year...last.year).map { Period.year($0) }
        var (year, tertial) = (first.year, Period.tertialNumber(of: first))
        let (lastYear, lastTertial) = (last.year, Period.tertialNumber(of: last))
        while (year, tertial) <= (lastYear, lastTertial) {
            result.append(.tertial(year, tertial))
            (year, tertial) = tertial == 3 ? (year + 1, 1) : (year, tertial + 1)
        }
        return result
    }

    func overlaps(year: Int) -> Bool { first.year <= year && year <= last.year }

    /// Midnights of the span inside `period`: the midnight between d and d+1 belongs to the period of
    /// d+1, so they are the days x with first < x ≤ last.
    func midnights(in period: Period) -> Int {
        let low = max(first.dayNumber + 1, period.firstDay.dayNumber)
        let high = min(last.dayNumber, period.lastDay.dayNumber)
        return max(0, high - low + 1)
    }
}

extension Period {
    static func tertialNumber(of date: LocalDate) -> Int { (date.month - 1) / 4 + 1 }
}

/// Contact order, ascending: later start, then higher `institutionId`, then higher `episodeId`.
struct ContactOrder: Comparable, Hashable, Sendable {
    var start: LocalDateTime
    var key: EpisodeKey
    static func < (a: ContactOrder, b: ContactOrder) -> Bool { (a.start, a.key) < (b.start, b.key) }
}

extension Episode {
    var contactOrder: ContactOrder { ContactOrder(start: start, key: key) }
    static func startsBefore(_ a: Episode, _ b: Episode) -> Bool { a.contactOrder < b.contactOrder }

    /// The patient's bosted region for this episode: the RHF of its municipality (2024 numbering); without
    /// a municipality the RHF of the treatment unit; a split or unknown number has none.
    func bostedRHF(unit: (String) -> Unit?) -> RHF? {
        guard let municipality else { return unit(unitId)?.rhf }
        return MunicipalityRegister.region(of: municipality)?.rhf
    }
}
