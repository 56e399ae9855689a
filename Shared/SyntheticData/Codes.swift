/// NPR code values the generator draws from (messages.md code lists), kept as small indices in the
/// compact drafts and turned into wire values only when a message is built.

/// Main-condition groups as NPR's TSB report tabulates them (npr-tsb-2022-2023, table 2).
enum DiagnosisGroup: Int, CaseIterable, Sendable {
    case f10, f11, f12, f13, f14, f15, f19, f16to18, f630, otherF, r, otherZ, other

    /// ICD-10 codes (without dot) used for the group, most frequent first.
    var codes: [String] {
        switch self {
        case .f10: return ["F102", "F101", "F103", "F1020", "F100"]
        case .f11: return ["F112", "F1120", "F111"]
        case .f12: return ["F122", "F121", "F125"]
        case .f13: return ["F132", "F131"]
        case .f14: return ["F142", "F141"]
        case .f15: return ["F152", "F151", "F155"]
        case .f19: return ["F192", "F191", "F195"]
        case .f16to18: return ["F162", "F182", "F172"]
        case .f630: return ["F630"]
        case .otherF: return ["F322", "F431", "F603", "F900", "F412", "F200"]
        case .r: return ["R418", "R69", "R458"]
        case .otherZ: return ["Z032", "Z711", "Z718", "Z045"]
        case .other: return ["K700", "T401", "G409", "S069"]
        }
    }

    /// A patient's dominant group, weighted after the report's patient counts.
    static let patientDistribution = Weighted<DiagnosisGroup>([
        (.f10, 0.32), (.f11, 0.20), (.f12, 0.10), (.f13, 0.055), (.f14, 0.028), (.f15, 0.054), (.f19, 0.09),
        (.f16to18, 0.002), (.f630, 0.028), (.otherF, 0.09), (.r, 0.012), (.otherZ, 0.008), (.other, 0.005),
    ])
}

enum ConditionCodes {
    static let lar = "Z5030"
    /// Secondary conditions: tobacco, depression, anxiety, hepatitis C, ADHD, personality disorder.
    static let secondary = ["F172", "F329", "F412", "B182", "F900", "F603"]

    /// Every code in one table, so a draft stores an `Int16` index.
    static let all: [String] = {
        var codes = DiagnosisGroup.allCases.flatMap(\.codes) + [lar]
        for code in secondary where !codes.contains(code) { codes.append(code) }
        return codes
    }()
    private static let indexByCode: [String: Int16] = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($1, Int16($0)) })
    static func index(_ code: String) -> Int16 { indexByCode[code]! }
}

enum Tariffs {
    static let all = ["P12", "P13", "P14a", "P14b", "P16", "P17", "P22", "P23", "P24a", "P24b", "P26", "P27"]
    private static func index(_ code: String) -> Int8 { Int8(all.firstIndex(of: code)!) }
    /// Physician/psychologist (P1x) or other clinician (P2x) variant of a tariff.
    static let consultation = [index("P12"), index("P22")]
    static let firstLineMeeting = [index("P13"), index("P23")]
    static let telephone = [index("P14a"), index("P14b"), index("P24a"), index("P24b")]
    static let group = [index("P16"), index("P26")]
    static let ambulant = [index("P17"), index("P27")]
}

/// Sectors of the responsible unit; nearly everything is TSB.
enum Sectors {
    static let all = ["TSB", "PHV", "SOM", "PHBU"]
    static let distribution = Weighted<UInt8>([(0, 0.984), (1, 0.01), (2, 0.005), (3, 0.001)])
}

/// The outpatient contact patterns: each fixes contactType, activityPlace, activityType,
/// indirectActivity and tariff consistently (a telephone contact has a telephone tariff, …).
enum ContactPattern: CaseIterable, Sendable {
    case clinic, group, couplesOrFamily, video, telephone, ambulant, indirect, other

    static let distribution = Weighted<ContactPattern>([
        (.clinic, 0.58), (.group, 0.07), (.couplesOrFamily, 0.03), (.video, 0.06), (.telephone, 0.09),
        (.ambulant, 0.08), (.indirect, 0.06), (.other, 0.03),
    ])

    /// Patient's home, external body, other ambulant place, other.
    static let ambulantPlaces = Weighted<Int8>([(4, 0.5), (2, 0.2), (5, 0.25), (9, 0.05)])
    /// Collaboration meetings with primary care (22) / another service (23), telephone meeting with
    /// primary care (71), and two other indirect activities.
    static let indirectActivities = Weighted<Int8>([(22, 0.4), (23, 0.25), (71, 0.2), (21, 0.1), (72, 0.05)])

    struct Codes {
        var contactType: Int8, activityPlace: Int8, activityType: Int8, indirectActivity: Int8, tariff: Int8
    }

    func draw(_ rng: inout SplitMix64) -> Codes {
        switch self {
        case .clinic:
            return Codes(
                contactType: rng.chance(0.85) ? 2 : 3, activityPlace: 1, activityType: 1, indirectActivity: -1,
                tariff: rng.pick(Tariffs.consultation))
        case .group:
            return Codes(contactType: 2, activityPlace: 1, activityType: 4, indirectActivity: -1, tariff: rng.pick(Tariffs.group))
        case .couplesOrFamily:
            return Codes(
                contactType: 2, activityPlace: 1, activityType: rng.chance(0.5) ? 2 : 3, indirectActivity: -1,
                tariff: rng.pick(Tariffs.consultation))
        case .video:
            return Codes(
                contactType: 6, activityPlace: rng.chance(0.7) ? 3 : 6, activityType: 1, indirectActivity: -1,
                tariff: rng.pick(Tariffs.consultation))
        case .telephone:
            return Codes(contactType: 7, activityPlace: 3, activityType: 1, indirectActivity: -1, tariff: rng.pick(Tariffs.telephone))
        case .ambulant:
            let place = ContactPattern.ambulantPlaces.draw(&rng)
            return Codes(
                contactType: 2, activityPlace: place, activityType: rng.chance(0.8) ? 1 : 7, indirectActivity: -1,
                tariff: rng.pick(Tariffs.ambulant))
        case .indirect:
            let activity = ContactPattern.indirectActivities.draw(&rng)
            let tariff: Int8 =
                activity == 22 || activity == 23
                ? rng.pick(Tariffs.firstLineMeeting)
                : activity == 71 ? rng.pick(Tariffs.telephone) : -1
            return Codes(contactType: 5, activityPlace: rng.chance(0.7) ? 1 : 2, activityType: 7, indirectActivity: activity, tariff: tariff)
        case .other:
            return Codes(
                contactType: rng.pick([12, 13, 14, 99]), activityPlace: 1, activityType: rng.chance(0.5) ? 5 : 8,
                indirectActivity: -1, tariff: -1)
        }
    }
}
