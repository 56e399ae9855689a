import NPRCore

/// # Activity indicators: measures, names and decisions
///
/// The indicator-calculator's families `tsb-avbrudd` (§1), `tsb-nokkeltall` (§3) and `tsb-poliklinikk` (§4)
/// of `spec/indicators.md`. Each patient bucket contributes to cells through one pure function
/// (`PatientContributions.compute`); the engine sums those contributions and retracts a patient's old set
/// whenever the patient changes.
///
/// ## Measure names
///
/// - `tsb-avbrudd`: `hovedmaltall`, `maltall-2`, `maltall-3`, `maltall-4` (shares). Periods: year and tertial
///   of the stay's end date. Levels: `national` (`NO`), `rhf` (RHF code), `hf` (`hfId`), `unit` (`unitId`)
///   of the stay's unit (the unit of its last episode).
/// - `tsb-nokkeltall` (year and tertials; `national` and `bosted-rhf`): counts `pasienter`, `dognpasienter`,
///   `dognopphold`, `oppholdsdogn`, `polikliniske-kontakter`, `kontakter-<kind>` with kind ∈ `dagbehandling`,
///   `samarbeidsmote`, `telefonmote-forstelinje`, `tele-video`, `ambulant`, `oppmote`; shares `lar-andel`,
///   `privat-andel-kontakter`, `privat-andel-dognopphold`, `privat-andel-oppholdsdogn`; counts
///   `diagnose-<G>-pasienter`, `diagnose-<G>-dognopphold`, `diagnose-<G>-oppholdsdogn`,
///   `diagnose-<G>-kontakter` with G ∈ `f10`, `f11`, `f12`, `f13`, `f14`, `f15`, `f19`, `f16-f18`, `f630`,
///   `annen-f`, `r`, `z5030`, `annen-z`, `andre`, `mangler`.
/// - `tsb-poliklinikk` (year; `national` and `bosted-rhf`): per category C ∈ `konsultasjoner`,
///   `forstelinjemote`, `telefon`, `gruppe`, `ambulant`: `C-kontakter` (count), `C-pasienter` (count),
///   `C-pasienter-per-10000` (rate, scale 10 000, denominator = population aged ≥ 18 on 1 January),
///   `C-kontakter-per-pasient` (ratio), `C-andel-dognpasienter` (share); the same five per diagnosis group
///   as `C-<stat>-<G>`, e.g. `telefon-pasienter-per-10000-f16-f18`.
///
/// Cell fields: `patients` = distinct patient buckets contributing (a bucket contributes at most once to a
/// cell, so this is exact under retraction); `size` for secondary suppression = the count for counts, the
/// denominator for shares and ratios (stays in the denominator for `tsb-avbrudd`), the patients for
/// per-10 000 rates. `parent`: unit → `hfId`, hf → RHF code, rhf and bosted-rhf → `NO`, national nil.
/// `unitName`: `Norge`, `RHF.name`, the HF's `hfName`, the unit's `name`.
///
/// ## Decisions on questions the spec leaves open
///
/// 1. **Episodes without a pseudonym** are left out of *every* distinct-patient measure (`pasienter`,
///    `dognpasienter`, `diagnose-G-pasienter`, `C-pasienter`, `C-pasienter-per-10000`) and of the two
///    patient-based ratios (`C-kontakter-per-pasient`: their contacts would otherwise be divided among
///    identified patients only; `C-andel-dognpasienter`). They do not contribute to those cells at all, so
///    such a cell's `patients` equals its value: an anonymous bucket can never lift a patient count of 1–4
///    over the suppression threshold. Everywhere else (stays, bed days, contacts, shares) each anonymous
///    bucket is a patient of its own.
/// 2. **Existing cells**: a contribution exists only with a non-zero numerator or denominator. A count
///    cell is therefore never zero; an inpatient episode without a midnight inside a period creates no
///    `oppholdsdogn` cell there. Per-10 000 rates exist where patients contribute, whatever the population.
/// 3. **Evaluation date** (`asOf`) only bounds *open* inpatient episodes; closed episodes keep their
///    reported dates even past `asOf`. An open episode starting after `asOf` is treated as ending on its
///    start date (it counts in its start period, without bed days) rather than vanishing.
/// 4. **Unit not (yet) in the register**: its stays count only nationally in `tsb-avbrudd`; a null
///    municipality cannot fall back to its RHF (national only); for the private shares it counts as not
///    private (denominator only). The unit's arrival recomputes the patients that use it.
/// 5. **HF metadata** (`hfName` and the RHF parent of an `hf` cell) come from the HF's unit with the
///    smallest `unitId`, so they do not depend on arrival order.
/// 6. **Institution stays** (`dognopphold` and its shares/groups) take region, unit (ownership) and
///    diagnosis group from the stay's last episode. A stay whose last episode is not a current TSB
///    episode of the patient is ignored.
/// 7. **`oppholdsdogn`** sums midnights per inpatient episode as the spec says (no de-duplication of
///    overlapping episodes). A midnight belongs to the period of the day after it.
/// 8. **Diagnosis group** of a code (one classifier, `DiagnosisGroup`): prefix `Z5030` → `z5030`,
///    `F630` → `f630`, `F10`…`F15`, `F19` → their group, `F16`/`F17`/`F18` → `f16-f18`, other `F` →
///    `annen-f`, `R` → `r`, other `Z` → `annen-z`, another letter → `andre`, missing or empty → `mangler`.
///    `lar-andel` and the §4 LAR exclusion use the same `z5030` test.
/// 9. **§4 patient group for year Y**: the main condition of the patient's last TSB inpatient episode with
///    its end date in Y (latest end; ties: later start, higher `institutionId`, higher `episodeId`), its
///    condition even when missing (`mangler`); otherwise the last §4 contact of Y (careLevel 3, not
///    `Z5030`; latest start; ties: higher `institutionId`, higher `episodeId`). One group per patient and
///    year, in every region the patient has contacts in.
/// 10. **§4 `andel-dognpasienter`**: the patient had a TSB inpatient episode overlapping the year (open ones
///    up to `asOf`), anywhere in the country.
/// 11. **§4 categories** match tariff codes exactly as written in the spec (`P14a`, not `p14a` or `P14`).
///     Only careLevel 3 contacts count in §4 (careLevel 8, contacts for inpatients, do not).
/// 12. **Per-10 000 rates** cover adults on both sides, as the seed says ("befolkningen og
///     pasientgrunnlaget avgrenset til voksne innbyggere 18 år og eldre"): the numerator counts patients
///     aged ≥ 18 on 1 January of the year (so it can be below `C-pasienter`), the denominator the
///     population rows aged ≥ 18 of that year, summed by the RHF of their (2024) municipality; national =
///     every row. A year without population gives denominator 0 (value null).
/// 13. **Avbrudd age** comes from the birth date on the stay's last episode. End types 1, 5, 6 are in the
///     denominator only; only a missing end type counts in `maltall-2`.
/// 14. **Non-TSB content** in a changelog assignment removes the episode (a correction may change sector).
///
/// ## Engine behaviour (`CalculatorEngine`)
///
/// - A changelog whose `sequence` is not above the patient's stored one is a redelivery and is ignored;
///   a patient whose episodes are all gone keeps its sequence.
/// - A changelog recomputes only the sources it changes (its episodes, stays whose content or last episode
///   changed, the §4 contacts of a year whose group or inpatient status moved); a unit or evaluation-date
///   change recomputes every source of the patients it affects. Both give the contributions that
///   `PatientContributions.compute` gives from scratch (the property test checks it).
/// - Names, parents and rate denominators are joined at cell-read time, so a unit or population change
///   re-reports exactly the cells that read it (and recomputes only the patients that use the unit).
/// - An `asOf` change recomputes only patients with an open inpatient episode, but re-reports *every*
///   cell: each cell carries the evaluation date, and the published view must match `allCells`.
/// - `restore` replaces the whole state and re-reports every cell (and every cell that disappeared), so
///   output stays complete whichever order the service persisted state and published cells in.
public enum MeasureCatalogue {
    /// How a measure's cells are valued.
    public struct Shape: Sendable, Hashable {
        public var formula: ValueFormula
        public var scale: Double?
    }

    static let count = Shape(formula: .count, scale: nil)
    static let share = Shape(formula: .share, scale: nil)
    static let ratio = Shape(formula: .ratio, scale: nil)
    static let per10000 = Shape(formula: .rate, scale: 10_000)

    /// Every measure of the calculator's three families with its shape.
    public static let shapes: [Indicator: [String: Shape]] = {
        var shapes: [Indicator: [String: Shape]] = [:]
        for measure in MeasureTable.shared.measures { shapes[measure.indicator, default: [:]][measure.name] = measure.shape }
        return shapes
    }()

    public static func shape(of key: CellKey) -> Shape? { shapes[key.indicator]?[key.measure] }
}

public enum AvbruddMeasure: String, CaseIterable, Sendable {
    case hovedmaltall
    case maltall2 = "maltall-2"
    case maltall3 = "maltall-3"
    case maltall4 = "maltall-4"

    /// Ages (on the stay's end date) in the measure's population.
    var ages: ClosedRange<Int> {
        switch self {
        case .hovedmaltall, .maltall2: return 18...Int.max
        case .maltall3: return 18...22
        case .maltall4: return 18...29
        }
    }

    /// Whether a stay with this end type is in the numerator.
    func counts(endType: Int?) -> Bool {
        switch self {
        case .maltall2: return endType == nil
        case .hovedmaltall, .maltall3, .maltall4: return endType.map { (2...4).contains($0) } ?? false
        }
    }
}

/// The `tsb-nokkeltall` measures with a fixed name (contact kinds and diagnosis groups are generated).
public enum NokkeltallMeasure: String, CaseIterable, Sendable {
    case pasienter, dognpasienter, dognopphold, oppholdsdogn
    case polikliniskeKontakter = "polikliniske-kontakter"
    case larAndel = "lar-andel"
    case privatAndelKontakter = "privat-andel-kontakter"
    case privatAndelDognopphold = "privat-andel-dognopphold"
    case privatAndelOppholdsdogn = "privat-andel-oppholdsdogn"

    var isShare: Bool {
        switch self {
        case .larAndel, .privatAndelKontakter, .privatAndelDognopphold, .privatAndelOppholdsdogn: return true
        default: return false
        }
    }
}

/// Kinds of contacts (`kontakter-<kind>`), first match wins.
public enum ContactKind: String, CaseIterable, Sendable {
    case dagbehandling, samarbeidsmote
    case telefonmoteForstelinje = "telefonmote-forstelinje"
    case teleVideo = "tele-video"
    case ambulant, oppmote

    public init(of contact: Episode) {
        if contact.careLevel == 2 {
            self = .dagbehandling
        } else if [22, 23].contains(contact.indirectActivity) {
            self = .samarbeidsmote
        } else if contact.indirectActivity == 71 {
            self = .telefonmoteForstelinje
        } else if [6, 7].contains(contact.contactType) || [3, 6].contains(contact.activityPlace) {
            self = .teleVideo
        } else if isAmbulant(place: contact.activityPlace) {
            self = .ambulant
        } else {
            self = .oppmote
        }
    }

    var measure: String { "kontakter-" + rawValue }
}

/// Activity places that count as ambulant (§3 kinds and §4 categories alike).
func isAmbulant(place: Int?) -> Bool { [2, 4, 5, 9].contains(place) }

/// Diagnosis groups of a main condition (§3 `diagnose-<group>`, §4 patient groups).
public enum DiagnosisGroup: String, CaseIterable, Sendable {
    case f10, f11, f12, f13, f14, f15, f19
    case f16f18 = "f16-f18"
    case f630
    case annenF = "annen-f"
    case r, z5030
    case annenZ = "annen-z"
    case andre, mangler

    public init(mainCondition code: String?) {
        guard let code, let letter = code.first else {
            self = .mangler
            return
        }
        if code.hasPrefix(Self.lar) {
            self = .z5030
            return
        }
        if code.hasPrefix("F630") {
            self = .f630
            return
        }
        switch code.prefix(3) {
        case "F10": self = .f10
        case "F11": self = .f11
        case "F12": self = .f12
        case "F13": self = .f13
        case "F14": self = .f14
        case "F15": self = .f15
        case "F19": self = .f19
        case "F16", "F17", "F18": self = .f16f18
        default:
            switch letter {
            case "F": self = .annenF
            case "R": self = .r
            case "Z": self = .annenZ
            default: self = .andre
            }
        }
    }

    /// LAR dispensing (`Z5030`): `lar-andel`'s numerator and excluded from §4.
    var isLAR: Bool { self == .z5030 }
    /// `DiagnosisGroup(mainCondition:).isLAR` without classifying the whole code (it runs for every contact).
    static func isLAR(_ mainCondition: String?) -> Bool { mainCondition?.hasPrefix(lar) ?? false }
    private static let lar = "Z5030"
}

public enum DiagnosisStatistic: String, CaseIterable, Sendable {
    case pasienter, dognopphold, oppholdsdogn, kontakter
    func measure(_ group: DiagnosisGroup) -> String { "diagnose-\(group.rawValue)-\(rawValue)" }
}

/// §4 contact categories (not exclusive).
public enum PoliklinikkCategory: String, CaseIterable, Sendable {
    case konsultasjoner, forstelinjemote, telefon, gruppe, ambulant

    public static func categories(of contact: Episode) -> [PoliklinikkCategory] {
        allCases.filter { $0.includes(contact) }
    }

    func includes(_ c: Episode) -> Bool {
        func hasTariff(_ codes: [String]) -> Bool { c.tariffs.contains { codes.contains($0) } }
        switch self {
        case .konsultasjoner: return true
        case .forstelinjemote: return hasTariff(Self.forstelinjemoteTariffs) || c.indirectActivity == 22
        case .telefon: return hasTariff(Self.telefonTariffs) || c.contactType == 7
        case .gruppe: return hasTariff(Self.gruppeTariffs) || [2, 3, 4].contains(c.activityType)
        case .ambulant: return hasTariff(Self.ambulantTariffs) || isAmbulant(place: c.activityPlace)
        }
    }

    // Built once: `includes` runs for every contact an event touches. Arrays, not sets: comparing a few
    // short strings costs less than hashing one.
    private static let forstelinjemoteTariffs = ["P13", "P23"]
    private static let telefonTariffs = ["P14a", "P14b", "P24a", "P24b"]
    private static let gruppeTariffs = ["P16", "P26"]
    private static let ambulantTariffs = ["P17", "P27"]
}

public enum PoliklinikkStatistic: String, CaseIterable, Sendable {
    case kontakter, pasienter
    case pasienterPer10000 = "pasienter-per-10000"
    case kontakterPerPasient = "kontakter-per-pasient"
    case andelDognpasienter = "andel-dognpasienter"

    var shape: MeasureCatalogue.Shape {
        switch self {
        case .kontakter, .pasienter: return MeasureCatalogue.count
        case .pasienterPer10000: return MeasureCatalogue.per10000
        case .kontakterPerPasient: return MeasureCatalogue.ratio
        case .andelDognpasienter: return MeasureCatalogue.share
        }
    }

    /// `C-<stat>` for all patients, `C-<stat>-<G>` for diagnosis group G.
    func measure(_ category: PoliklinikkCategory, _ group: DiagnosisGroup?) -> String {
        let base = category.rawValue + "-" + rawValue
        return group.map { base + "-" + $0.rawValue } ?? base
    }
}

/// One measure of the three families, named by its parts: where its name, indicator and shape are decided.
enum Measure: Hashable, Sendable {
    case avbrudd(AvbruddMeasure)
    case nokkeltall(NokkeltallMeasure)
    case kontakter(ContactKind)
    case diagnose(DiagnosisStatistic, DiagnosisGroup)
    case poliklinikk(PoliklinikkStatistic, PoliklinikkCategory, DiagnosisGroup?)

    /// Every measure, in `MeasureId` order.
    static let allCases: [Measure] =
        AvbruddMeasure.allCases.map(Measure.avbrudd)
        + NokkeltallMeasure.allCases.map(Measure.nokkeltall)
        + ContactKind.allCases.map(Measure.kontakter)
        + DiagnosisGroup.allCases.flatMap { g in DiagnosisStatistic.allCases.map { Measure.diagnose($0, g) } }
        + PoliklinikkCategory.allCases.flatMap { c in
            PoliklinikkStatistic.allCases.flatMap { s in ([nil] + DiagnosisGroup.allCases).map { Measure.poliklinikk(s, c, $0) } }
        }

    var indicator: Indicator {
        switch self {
        case .avbrudd: return .avbrudd
        case .nokkeltall, .kontakter, .diagnose: return .nokkeltall
        case .poliklinikk: return .poliklinikk
        }
    }

    var name: String {
        switch self {
        case .avbrudd(let m): return m.rawValue
        case .nokkeltall(let m): return m.rawValue
        case .kontakter(let k): return k.measure
        case .diagnose(let s, let g): return s.measure(g)
        case .poliklinikk(let s, let c, let g): return s.measure(c, g)
        }
    }

    var shape: MeasureCatalogue.Shape {
        switch self {
        case .avbrudd: return MeasureCatalogue.share
        case .nokkeltall(let m): return m.isShare ? MeasureCatalogue.share : MeasureCatalogue.count
        case .kontakter, .diagnose: return MeasureCatalogue.count
        case .poliklinikk(let s, _, _): return s.shape
        }
    }
}

/// Dense number of a `Measure` (its index in `Measure.allCases`): contributions address cells by small
/// integers, and a measure's name is built only when one of its cells first appears.
typealias MeasureId = Int

/// The numbering of the measures, and the names behind it.
struct MeasureTable: Sendable {
    struct Entry: Sendable {
        let indicator: Indicator
        let name: String
        let shape: MeasureCatalogue.Shape
    }

    /// The five §4 statistics of one category and group (or all groups).
    struct PoliklinikkIds: Sendable {
        let kontakter, pasienter, pasienterPer10000, kontakterPerPasient, andelDognpasienter: MeasureId
    }

    static let shared = MeasureTable()

    /// By `MeasureId`.
    let measures: [Entry]
    private let ids: [Measure: MeasureId]
    private let idsByName: [Indicator: [String: MeasureId]]
    /// §4 statistics by group (nil: all patients), then by `PoliklinikkCategory.allCases` index.
    let poliklinikk: [DiagnosisGroup?: [PoliklinikkIds]]

    private init() {
        measures = Measure.allCases.map { Entry(indicator: $0.indicator, name: $0.name, shape: $0.shape) }
        let ids = Dictionary(uniqueKeysWithValues: Measure.allCases.enumerated().map { ($1, $0) })
        self.ids = ids
        var byName: [Indicator: [String: MeasureId]] = [:]
        for (id, m) in measures.enumerated() { byName[m.indicator, default: [:]][m.name] = id }
        idsByName = byName
        var poliklinikk: [DiagnosisGroup?: [PoliklinikkIds]] = [:]
        for group in [nil] + DiagnosisGroup.allCases {
            poliklinikk[group] = PoliklinikkCategory.allCases.map { c in
                func id(_ s: PoliklinikkStatistic) -> MeasureId { ids[.poliklinikk(s, c, group)]! }
                return PoliklinikkIds(
                    kontakter: id(.kontakter), pasienter: id(.pasienter), pasienterPer10000: id(.pasienterPer10000),
                    kontakterPerPasient: id(.kontakterPerPasient), andelDognpasienter: id(.andelDognpasienter))
            }
        }
        self.poliklinikk = poliklinikk
    }

    subscript(_ measure: Measure) -> MeasureId { ids[measure]! }

    /// The id of a measure name of `indicator`, nil for a name outside the three families.
    func id(_ indicator: Indicator, name: String) -> MeasureId? { idsByName[indicator]?[name] }
}
