import NPRCore

/// One version of an episode as it will be sent, without strings: a national year of these is small
/// enough to sort into arrival order before any message is built.
struct EpisodeDraft: Sendable, Hashable {
    var person: Int32
    var serial: Int32 = 0
    var unit: Int16
    /// Index into `Sectors.all`.
    var sector: UInt8 = 0
    var careLevel: Int8
    var sex: Int8
    var omitPersonId = false
    var withBirthDate = false
    /// Index into `ReportedMunicipalities.all`, -1 = null.
    var municipality: Int16 = -1
    /// Index into `OsloDistricts.all`, -1 = none.
    var district: Int8 = -1
    /// Minutes since 1970-01-01 00:00 (local time).
    var start: Int32
    /// -1 = open.
    var end: Int32
    // Code values; -1 = not reported.
    var endType: Int8 = -1
    var admissionUrgency: Int8 = -1
    var contactType: Int8 = -1
    var activityPlace: Int8 = -1
    var activityType: Int8 = -1
    var indirectActivity: Int8 = -1
    /// Indices into `ConditionCodes.all`, -1 = none (no main condition means no conditions at all).
    var mainCondition: Int16 = -1
    var secondaryCondition: Int16 = -1
    /// Index into `Tariffs.all`, -1 = none.
    var tariff: Int8 = -1
    var rightToHealthcare: Int8 = -1
    /// Referral received (day number), -1 = no referral block.
    var referralDay: Int32 = -1

    var startDay: Int { Int(start) / minutesPerDay }
    var endDay: Int? { end < 0 ? nil : Int(end) / minutesPerDay }
}

let minutesPerDay = 1_440

func minutes(day: Int, hour: Int, minute: Int) -> Int32 { Int32(day * minutesPerDay + hour * 60 + minute) }

/// A draft scheduled for sending: arrival day, a random tie-break within the day, and the version.
struct Delivery: Sendable {
    var arrivalDay: Int32
    var order: UInt32
    var revision: Int16
    var status: EpisodeStatus
    var draft: EpisodeDraft

    static func arrivesBefore(_ a: Delivery, _ b: Delivery) -> Bool {
        (a.arrivalDay, a.order, a.draft.serial, a.revision) < (b.arrivalDay, b.order, b.draft.serial, b.revision)
    }
}

/// Plans one person's episodes year by year, then the versions (originals, corrections, annulments)
/// in which they reach NPR.
///
/// The statistics year gets full activity (outpatient contacts, LAR dispensing, day treatment,
/// inpatient stays built from chained episodes); the history years get a sparse course (an assessment,
/// a follow-up or two, sometimes a stay), which is what the mortality cohort needs.
struct EpisodePlanner: Sendable {
    let config: SyntheticConfig
    let catalogue: UnitCatalogue
    /// Last day of the statistics year: what ends later is still open when the data are taken out.
    let cutoffDay: Int
    /// Mean outpatient contacts (regular + LAR dispensing) per patient in the statistics year.
    let outpatientMean: Double

    /// Share of patients with a day-treatment series, and its mean length.
    static let dayTreatmentShare = 0.03, dayTreatmentMeanDays = 12.5
    /// Expected inpatient-related episodes per inpatient patient: ≈ 1.45 stays × 1.4 episodes, plus
    /// outpatient contacts during the stay (careLevel 8).
    static let episodesPerInpatientPatient = 2.4
    /// Share of LAR dispensing among outpatient contacts (NPR 2023: 15 %), and of LAR patients.
    static let larContactShare = 0.15, larPatientShare = 0.07

    init(config: SyntheticConfig, catalogue: UnitCatalogue) {
        self.config = config
        self.catalogue = catalogue
        cutoffDay = LocalDate(year: config.year, month: 12, day: 31)!.dayNumber
        let other =
            config.inpatientPatientShare * EpisodePlanner.episodesPerInpatientPatient
            + EpisodePlanner.dayTreatmentShare * EpisodePlanner.dayTreatmentMeanDays
        outpatientMean = max(1, config.episodesPerPatient - other)
    }

    enum StayShape: CaseIterable, Sendable { case detoxThenTreatment, detoxOnly, treatmentOnly, treatmentWithTransfer }
    static let stayShapes = Weighted<StayShape>([(.detoxThenTreatment, 0.30), (.detoxOnly, 0.20), (.treatmentOnly, 0.40), (.treatmentWithTransfer, 0.10)])
    static let staysPerInpatientYear = Weighted<Int>([(1, 0.65), (2, 0.25), (3, 0.10)])
    /// End type of the last episode of a stay: ≈ 22 % dropout (2, 3, 4), 17 % not reported.
    static let lastEndType = Weighted<Int8>([(1, 0.60), (2, 0.05), (3, 0.14), (4, 0.03), (5, 0.01), (-1, 0.17)])
    static let detoxEndType = Weighted<Int8>([(1, 0.70), (2, 0.03), (3, 0.15), (4, 0.02), (-1, 0.10)])

    /// Everything one person sends, each episode's versions in order.
    func deliveries(for p: Person, index: Int, nextSerial: inout Int32) -> [Delivery] {
        var rng = SplitMix64(seed: config.seed ^ 0xE915_0DE5, stream: UInt64(index))
        var drafts = episodes(of: p, index: index, &rng)
        if p.deathDay >= 0 { drafts = truncated(drafts, atDeathDay: Int(p.deathDay)) }
        var out: [Delivery] = []
        out.reserveCapacity(drafts.count + 2)
        for var draft in drafts {
            draft.serial = nextSerial
            nextSerial += 1
            appendVersions(of: draft, to: &out, &rng)
        }
        return out
    }

    // MARK: - Episodes

    /// The person's episodes, in start order.
    func episodes(of p: Person, index: Int, _ rng: inout SplitMix64) -> [EpisodeDraft] {
        var context = PersonContext(planner: self, person: p, index: index, &rng)
        var referralDay = -1
        for year in Int(p.firstYear)...Int(p.lastYear) {
            let yearStart = LocalDate(year: year, month: 1, day: 1)!.dayNumber
            let yearEnd = LocalDate(year: year, month: 12, day: 31)!.dayNumber
            let isStatisticsYear = year == config.year
            let isFirstYear = year == Int(p.firstYear)
            let courseStart = isFirstYear ? yearStart + rng.int(0...(isStatisticsYear ? 300 : 330)) : yearStart + rng.int(0...20)
            let courseEnd =
                rng.chance(isStatisticsYear ? 0.4 : 0.3) && year == Int(p.lastYear)
                ? min(yearEnd, courseStart + rng.int(30...300)) : yearEnd
            if isFirstYear { referralDay = courseStart - rng.int(7...90) }
            context.referralDay = Int32(referralDay)

            let regular: Int, larDispensing: Int, stays: Int
            if isStatisticsYear {
                let inpatientYear = rng.chance(config.inpatientPatientShare)
                let regularMean = outpatientMean * (1 - EpisodePlanner.larContactShare)
                regular = inpatientYear && rng.chance(0.1) ? 0 : max(1, Int(rng.logNormal(mean: regularMean, sigma: 0.9).rounded()))
                let larMean = outpatientMean * EpisodePlanner.larContactShare / EpisodePlanner.larPatientShare
                larDispensing = p.lar ? Int(rng.logNormal(mean: larMean, sigma: 0.5).rounded()) : 0
                stays = inpatientYear ? EpisodePlanner.staysPerInpatientYear.draw(&rng) : 0
                if rng.chance(EpisodePlanner.dayTreatmentShare) {
                    context.addDayTreatment(from: courseStart, to: courseEnd, days: rng.int(5...20), &rng)
                }
            } else {
                regular = 1 + rng.poisson(1.0)
                larDispensing = 0
                stays = rng.chance(0.08) ? 1 : 0
            }
            context.addContacts(regular, from: courseStart, to: courseEnd, assessmentFirst: isFirstYear, &rng)
            context.addLARDispensing(larDispensing, from: courseStart, to: courseEnd, &rng)
            context.addStays(stays, from: courseStart, to: courseEnd, yearEnd: yearEnd, &rng)
        }
        return context.drafts.sorted { ($0.start, $0.unit) < ($1.start, $1.unit) }
    }

    /// A person dies on `deathDay`: nothing starts later, and an inpatient episode still running ends
    /// that day with end type 6.
    func truncated(_ drafts: [EpisodeDraft], atDeathDay deathDay: Int) -> [EpisodeDraft] {
        let lastMinute = Int32((deathDay + 1) * minutesPerDay - 1)
        return drafts.compactMap { draft in
            guard draft.start <= lastMinute else { return nil }
            var d = draft
            if d.careLevel == 1, d.end < 0 || d.end > lastMinute {
                d.end = max(d.start, minutes(day: deathDay, hour: 12, minute: 0))
                d.endType = 6
            }
            return d
        }
    }

    // MARK: - Versions

    /// The versions of one episode in arrival order: a long stay is often first reported while open
    /// and closed by a correction; then corrections and annulments at the configured rates.
    func appendVersions(of draft: EpisodeDraft, to out: inout [Delivery], _ rng: inout SplitMix64) {
        var arrival: Int
        var revision: Int16 = 1
        func send(_ d: EpisodeDraft, _ status: EpisodeStatus) {
            out.append(Delivery(arrivalDay: Int32(arrival), order: UInt32(truncatingIfNeeded: rng.next()), revision: revision, status: status, draft: d))
        }
        if draft.careLevel == 1, let endDay = draft.endDay, endDay - draft.startDay >= 30, rng.chance(0.4) {
            var open = draft
            open.end = -1
            open.endType = -1
            arrival = draft.startDay + rng.int(1...20)
            send(open, .new)
            revision = 2
            arrival = endDay + rng.int(1...35)
            send(draft, .correction)
        } else {
            arrival = (draft.endDay ?? draft.startDay) + rng.int(1...35)
            send(draft, .new)
        }
        var current = draft
        if rng.chance(config.correctionRate) {
            repeat {
                current = corrected(current, &rng)
                revision += 1
                arrival += rng.int(3...90)
                send(current, .correction)
            } while rng.chance(0.15)
        }
        if rng.chance(config.annulmentRate) {
            // Half the annulments repeat the latest revision, half raise it: both remove the episode.
            if rng.chance(0.5) { revision += 1 }
            arrival += rng.int(5...120)
            send(current, .annulment)
            if rng.chance(0.1) {  // annulled by mistake, then reported again
                revision += 1
                arrival += rng.int(3...60)
                send(current, .correction)
            }
        }
    }

    /// A correction changes what hospitals typically fix afterwards: the end type, the end date, the
    /// main condition, the contact coding, or an outdated municipality number.
    func corrected(_ draft: EpisodeDraft, _ rng: inout SplitMix64) -> EpisodeDraft {
        var d = draft
        switch (d.careLevel == 1, rng.int(0...3)) {
        case (true, 0) where d.end >= 0:
            let options: [Int8] = [1, 2, 3, 4, -1].filter { $0 != d.endType }
            d.endType = rng.pick(options)
        case (true, 1) where d.end >= 0 && d.endType != 6:
            let shifted = d.end + Int32(rng.int(1...3) * minutesPerDay)
            if Int(shifted) / minutesPerDay <= cutoffDay { d.end = shifted } else { d.mainCondition = otherCondition(than: d.mainCondition, &rng) }
        case (false, 1):
            let codes = ContactPattern.distribution.draw(&rng).draw(&rng)
            d.contactType = codes.contactType
            d.activityPlace = codes.activityPlace
            d.activityType = codes.activityType
            d.indirectActivity = codes.indirectActivity
            d.tariff = codes.tariff
        case (false, 2) where Int(d.municipality) >= SyntheticPopulation.municipalities.count:
            // An older number replaced by the 2024 number it maps to.
            if case .region(_, let successors) = MunicipalityRegister.resolve(ReportedMunicipalities.all[Int(d.municipality)]),
                let i = SyntheticPopulation.municipalities.firstIndex(of: successors[0])
            {
                d.municipality = Int16(i)
            } else {
                d.mainCondition = otherCondition(than: d.mainCondition, &rng)
            }
        default:
            d.mainCondition = otherCondition(than: d.mainCondition, &rng)
        }
        if d == draft { d.mainCondition = otherCondition(than: d.mainCondition, &rng) }
        return d
    }

    private static let substanceCodes = [DiagnosisGroup.f10, .f11, .f12, .f13, .f15, .f19].flatMap(\.codes).map(ConditionCodes.index)

    private func otherCondition(than current: Int16, _ rng: inout SplitMix64) -> Int16 {
        var code = rng.pick(EpisodePlanner.substanceCodes)
        while code == current { code = rng.pick(EpisodePlanner.substanceCodes) }
        return code
    }
}

/// What stays fixed for one person while their episodes are planned: where they are treated, their
/// usual diagnosis, their referral.
private struct PersonContext {
    let planner: EpisodePlanner
    let person: Person
    let index: Int32
    let outpatientUnit: Int16
    let catchment: String
    let rhf: RHF
    /// The person's usual main condition.
    let usualCondition: Int16
    var referralDay: Int32 = -1
    var drafts: [EpisodeDraft] = []

    init(planner: EpisodePlanner, person: Person, index: Int, _ rng: inout SplitMix64) {
        self.planner = planner
        self.person = person
        self.index = Int32(index)
        // Without a fixed address a person is treated where they happen to be.
        let municipality = person.home >= 0 ? Int(person.home) : Int(ReportedMunicipalities.residence.draw(&rng))
        let region = MunicipalityRegister.byNumber[SyntheticPopulation.municipalities[municipality]]!.region
        rhf = region.rhf
        catchment =
            municipality == ReportedMunicipalities.oslo && person.district >= 0
            ? OsloDistricts.all[Int(person.district)].area : region.helsefellesskap
        outpatientUnit = planner.catalogue.outpatientUnit(catchment: catchment, rhf: rhf, &rng)
        usualCondition = ConditionCodes.index(rng.chance(0.7) ? person.group.codes[0] : rng.pick(person.group.codes))
    }

    /// A draft with the person's reporting habits filled in.
    func draft(careLevel: Int8, unit: Int16, start: Int32, end: Int32, _ rng: inout SplitMix64) -> EpisodeDraft {
        var d = EpisodeDraft(
            person: index, unit: unit, careLevel: careLevel,
            sex: rng.chance(0.003) ? (rng.chance(0.5) ? 9 : 0) : Int8(person.sex), start: start, end: end)
        d.sector = Sectors.distribution.draw(&rng)
        d.omitPersonId = rng.chance(0.01)
        d.withBirthDate = d.omitPersonId || rng.chance(0.04)
        let day = Int(start) / minutesPerDay
        let home = person.municipality(onDay: day)
        d.municipality = home == person.home && person.olderNumber >= 0 ? person.olderNumber : home
        if Int(home) == ReportedMunicipalities.oslo, person.district >= 0, rng.chance(0.6) { d.district = person.district }
        if referralDay >= 0, rng.chance(0.85) {
            d.referralDay = referralDay
            d.rightToHealthcare = person.rightToHealthcare
        }
        if rng.chance(0.01) { return d }  // conditions not reported
        d.mainCondition = rng.chance(0.75) ? usualCondition : ConditionCodes.index(rng.pick(person.group.codes))
        if rng.chance(0.25) { d.secondaryCondition = ConditionCodes.index(rng.pick(ConditionCodes.secondary)) }
        if d.secondaryCondition == d.mainCondition { d.secondaryCondition = -1 }
        return d
    }

    /// A day in [first, last], mostly a working day: a weekend day moves to the Friday before or the
    /// Monday after (unless that leaves the range).
    static func contactDay(from first: Int, to last: Int, _ rng: inout SplitMix64) -> Int {
        let day = rng.int(first...last)
        guard rng.chance(0.92) else { return day }
        let moved: Int
        switch weekday(day) {
        case 5: moved = day - 1
        case 6: moved = day + 1
        default: moved = day
        }
        return min(max(moved, first), last)
    }

    /// 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
    static func weekday(_ day: Int) -> Int { (day + 3) % 7 }

    mutating func addContacts(_ count: Int, from first: Int, to last: Int, assessmentFirst: Bool, _ rng: inout SplitMix64) {
        guard count > 0 else { return }
        var days = (0..<count).map { _ in PersonContext.contactDay(from: first, to: last, &rng) }
        days.sort()
        for (k, day) in days.enumerated() {
            let start = minutes(day: day, hour: rng.int(8...15), minute: rng.pick([0, 15, 30, 45]))
            var d = draft(careLevel: 3, unit: outpatientUnit, start: start, end: start + Int32(rng.pick([30, 45, 60, 60, 90])), &rng)
            let codes = (k == 0 && assessmentFirst ? ContactPattern.clinic : ContactPattern.distribution.draw(&rng)).draw(&rng)
            d.contactType = k == 0 && assessmentFirst ? 1 : codes.contactType
            d.activityPlace = codes.activityPlace
            d.activityType = codes.activityType
            d.indirectActivity = codes.indirectActivity
            d.tariff = rng.chance(0.04) ? -1 : codes.tariff
            if k == 0 && assessmentFirst {
                d.admissionUrgency = 4
                // An assessment is sometimes coded with a symptom or a Z code before the diagnosis is set.
                if rng.chance(0.1) { d.mainCondition = ConditionCodes.index(rng.pick(DiagnosisGroup.r.codes + DiagnosisGroup.otherZ.codes)) }
            }
            drafts.append(d)
        }
    }

    /// LAR dispensing: main condition Z5030, the opioid diagnosis second.
    mutating func addLARDispensing(_ count: Int, from first: Int, to last: Int, _ rng: inout SplitMix64) {
        for _ in 0..<count {
            let day = PersonContext.contactDay(from: first, to: last, &rng)
            let start = minutes(day: day, hour: rng.int(8...14), minute: rng.pick([0, 15, 30, 45]))
            var d = draft(careLevel: 3, unit: outpatientUnit, start: start, end: start + 15, &rng)
            d.contactType = 2
            d.activityPlace = 1
            d.activityType = 1
            d.tariff = rng.chance(0.5) ? Tariffs.consultation[0] : -1
            d.mainCondition = ConditionCodes.index(ConditionCodes.lar)
            d.secondaryCondition = ConditionCodes.index("F112")
            drafts.append(d)
        }
    }

    /// A series of day-treatment days (careLevel 2) on consecutive working days.
    mutating func addDayTreatment(from first: Int, to last: Int, days: Int, _ rng: inout SplitMix64) {
        var day = rng.int(first...max(first, last - days * 7 / 5))
        var remaining = days
        while remaining > 0 {
            if PersonContext.weekday(day) >= 5 { day += 7 - PersonContext.weekday(day) }
            guard day <= last else { return }
            var d = draft(
                careLevel: 2, unit: outpatientUnit, start: minutes(day: day, hour: 9, minute: 0),
                end: minutes(day: day, hour: 15, minute: 0), &rng)
            d.contactType = 2
            d.activityPlace = 1
            d.activityType = rng.chance(0.7) ? 4 : 6
            drafts.append(d)
            day += 1
            remaining -= 1
        }
    }

    /// `count` stays, each a chain of inpatient episodes linked on the same or the next day (now and
    /// then a gap of a few days breaks the chain), at least two weeks apart.
    mutating func addStays(_ count: Int, from first: Int, to last: Int, yearEnd: Int, _ rng: inout SplitMix64) {
        guard count > 0 else { return }
        var nextStart = rng.int(first...max(first, first + (last - first) / count))
        for _ in 0..<count where nextStart <= yearEnd {
            guard let endDay = addStay(startingOn: nextStart, &rng) else { return }  // still open
            nextStart = endDay + rng.int(14...90)
        }
    }

    /// Adds one stay; returns the day its last episode ends, nil when it is still open at the cutoff.
    private mutating func addStay(startingOn day: Int, _ rng: inout SplitMix64) -> Int? {
        enum Segment { case detox, treatment }
        let shape = EpisodePlanner.stayShapes.draw(&rng)
        let segments: [Segment]
        switch shape {
        case .detoxThenTreatment: segments = [.detox, .treatment]
        case .detoxOnly: segments = [.detox]
        case .treatmentOnly: segments = [.treatment]
        case .treatmentWithTransfer: segments = [.treatment, .treatment]
        }
        let emergency = segments[0] == .detox ? rng.chance(0.4) : rng.chance(0.1)
        var start =
            emergency
            ? minutes(day: day, hour: rng.int(0...23), minute: rng.int(0...59))
            : minutes(day: day, hour: rng.int(8...14), minute: rng.pick([0, 30]))
        for (k, segment) in segments.enumerated() {
            let unit: Int16, length: Int
            switch segment {
            case .detox:
                unit = planner.catalogue.detoxUnit(catchment: catchment, rhf: rhf, &rng)
                length = rng.int(3...12)
            case .treatment:
                unit = planner.catalogue.treatmentUnit(rhf: rhf, &rng)
                let mean = planner.catalogue.isPrivate(unit) ? 75.0 : 30.0
                length = min(300, max(2, Int(rng.logNormal(mean: mean, sigma: 0.6).rounded())))
            }
            let startDay = Int(start) / minutesPerDay
            let endDay = startDay + length
            let isLast = k == segments.count - 1
            let open = endDay > planner.cutoffDay
            let end = open ? -1 : max(start + 60, minutes(day: endDay, hour: rng.int(9...15), minute: rng.pick([0, 15, 30, 45])))
            var d = draft(careLevel: 1, unit: unit, start: start, end: end, &rng)
            if k == 0 {
                d.admissionUrgency = emergency ? Int8(rng.int(1...3)) : (rng.chance(0.95) ? 4 : 5)
            } else if rng.chance(0.7) {
                d.admissionUrgency = 4
            }
            if !open {
                d.endType =
                    isLast
                    ? (shape == .detoxOnly ? EpisodePlanner.detoxEndType : EpisodePlanner.lastEndType).draw(&rng)
                    : (rng.chance(0.8) ? 1 : -1)
            } else if rng.chance(0.2) {
                d.mainCondition = -1
                d.secondaryCondition = -1  // open stays often lack a condition yet
            }
            drafts.append(d)
            addOutpatientContactDuringStay(from: startDay, to: open ? min(planner.cutoffDay, endDay) : endDay, &rng)
            if open { return nil }
            if isLast { return endDay }
            // The next episode of the chain: same day, next day, or (rarely) a few days later.
            switch rng.unit() {
            case ..<0.55: start = end + Int32(rng.int(0...180))
            case ..<0.95: start = minutes(day: endDay + 1, hour: rng.int(8...14), minute: rng.pick([0, 30]))
            default: start = minutes(day: endDay + rng.int(2...4), hour: rng.int(8...14), minute: 0)
            }
            if Int(start) / minutesPerDay > planner.cutoffDay { return endDay }
        }
        return nil
    }

    /// Now and then an outpatient clinic sees a patient during their stay (careLevel 8).
    private mutating func addOutpatientContactDuringStay(from firstDay: Int, to lastDay: Int, _ rng: inout SplitMix64) {
        guard lastDay - firstDay >= 5, rng.chance(0.3) else { return }
        let start = minutes(day: rng.int((firstDay + 1)...(lastDay - 1)), hour: rng.int(10...14), minute: 0)
        var d = draft(careLevel: 8, unit: outpatientUnit, start: start, end: start + 45, &rng)
        let codes = ContactPattern.clinic.draw(&rng)
        d.contactType = codes.contactType
        d.activityPlace = codes.activityPlace
        d.activityType = codes.activityType
        d.tariff = codes.tariff
        drafts.append(d)
    }
}
