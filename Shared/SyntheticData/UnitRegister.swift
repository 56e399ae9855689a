import NPRCore

/// The synthetic unit register: the 19 public HFs (one per helsefellesskap, real HF names), the two
/// Oslo hospitals with operating agreements, and fictional private institutions in every RHF.
/// Organisation numbers are synthetic (nine digits with a valid mod-11 check digit).
enum UnitRegister {
    enum Role: Sendable { case outpatient, inpatient, detox }

    struct Institution: Sendable {
        /// Who the institution serves first: a helsefellesskap name, or an Oslo hospital area
        /// (`OsloDistricts`); nil for private institutions that take patients from their whole RHF.
        let catchment: String?
        let name: String
        let rhf: RHF
        let ownership: Ownership
        let units: [(name: String, role: Role)]
    }

    static let institutions: [Institution] = {
        func hf(_ catchment: String, _ name: String, _ rhf: RHF, _ units: [(String, Role)]) -> Institution {
            Institution(catchment: catchment, name: name, rhf: rhf, ownership: .public, units: units.map { (name: $0.0, role: $0.1) })
        }
        func privat(_ name: String, _ rhf: RHF, _ ownership: Ownership, _ units: [(String, Role)], catchment: String? = nil) -> Institution {
            Institution(catchment: catchment, name: name, rhf: rhf, ownership: ownership, units: units.map { (name: $0.0, role: $0.1) })
        }
        let poli = "Poliklinikk rus og avhengighet", dogn = "Døgnavdeling rusbehandling", avrusning = "Avrusningsenhet"
        return [
            hf(OsloDistricts.ous, "Oslo universitetssykehus HF", .sorOst, [(poli, .outpatient), (avrusning, .detox), (dogn, .inpatient)]),
            privat(
                "Lovisenberg Diakonale Sykehus AS", .sorOst, .privateOperatingAgreement,
                [(poli, .outpatient), (dogn, .inpatient)], catchment: OsloDistricts.lovisenberg),
            privat(
                "Diakonhjemmet Sykehus AS", .sorOst, .privateOperatingAgreement,
                [(poli, .outpatient)], catchment: OsloDistricts.diakonhjemmet),
            hf("Akershus", "Akershus universitetssykehus HF", .sorOst, [(poli, .outpatient), (avrusning, .detox), (dogn, .inpatient)]),
            hf(
                "Innlandet", "Sykehuset Innlandet HF", .sorOst,
                [(poli + " Hamar", .outpatient), (poli + " Gjøvik", .outpatient), (avrusning, .detox), (dogn, .inpatient)]),
            hf("Vestre Viken", "Vestre Viken HF", .sorOst, [(poli, .outpatient), (avrusning, .detox), (dogn, .inpatient)]),
            hf("Vestfold", "Sykehuset i Vestfold HF", .sorOst, [(poli, .outpatient), (dogn, .inpatient)]),
            hf("Telemark", "Sykehuset Telemark HF", .sorOst, [(poli, .outpatient), (dogn, .inpatient)]),
            hf("Sørlandet", "Sørlandet sykehus HF", .sorOst, [(poli, .outpatient), (avrusning, .detox), (dogn, .inpatient)]),
            hf("Østfold", "Sykehuset Østfold HF", .sorOst, [(poli, .outpatient), (dogn, .inpatient)]),
            hf("Stavanger", "Helse Stavanger HF", .vest, [(poli, .outpatient), (avrusning, .detox), (dogn, .inpatient)]),
            hf("Fonna", "Helse Fonna HF", .vest, [(poli, .outpatient), (dogn, .inpatient)]),
            hf("Bergen", "Helse Bergen HF", .vest, [(poli, .outpatient), (avrusning, .detox), (dogn, .inpatient)]),
            hf("Førde", "Helse Førde HF", .vest, [(poli, .outpatient)]),
            hf("St. Olav", "St. Olavs hospital HF", .midtNorge, [(poli, .outpatient), (avrusning, .detox), (dogn, .inpatient)]),
            hf("Møre og Romsdal", "Helse Møre og Romsdal HF", .midtNorge, [(poli, .outpatient), (dogn, .inpatient)]),
            hf("Nord-Trøndelag", "Helse Nord-Trøndelag HF", .midtNorge, [(poli, .outpatient)]),
            hf("UNN", "Universitetssykehuset Nord-Norge HF", .nord, [(poli, .outpatient), (avrusning, .detox), (dogn, .inpatient)]),
            hf("Nordland", "Nordlandssykehuset HF", .nord, [(poli, .outpatient), (dogn, .inpatient)]),
            hf("Helgeland", "Helgelandssykehuset HF", .nord, [(poli, .outpatient)]),
            hf("Finnmark", "Finnmarkssykehuset HF", .nord, [(poli, .outpatient)]),
            privat("Fjellheim Rusbehandling AS", .sorOst, .privateOperatingAgreement, [(dogn, .inpatient)]),
            privat("Stiftelsen Solberg Behandlingssenter", .sorOst, .privateOperatingAgreement, [(dogn, .inpatient), (poli, .outpatient)]),
            privat("Nordmarka Klinikk AS", .sorOst, .privatePurchaseAgreement, [(dogn, .inpatient)]),
            privat("Valdres Rehabilitering AS", .sorOst, .freeChoice, [(dogn, .inpatient)]),
            privat("Stiftelsen Bjørgvin Rusbehandling", .vest, .privateOperatingAgreement, [(dogn, .inpatient), (poli, .outpatient)]),
            privat("Vestkyst Behandlingssenter AS", .vest, .privatePurchaseAgreement, [(dogn, .inpatient)]),
            privat("Trøndelag Rusbehandling AS", .midtNorge, .privateOperatingAgreement, [(dogn, .inpatient)]),
            privat("Stiftelsen Romsdal Behandlingssenter", .midtNorge, .privatePurchaseAgreement, [(dogn, .inpatient)]),
            privat("Nordnorsk Rusbehandling AS", .nord, .privateOperatingAgreement, [(dogn, .inpatient)]),
            privat("Stiftelsen Vidda Behandlingssenter", .nord, .freeChoice, [(dogn, .inpatient)]),
        ]
    }()

    /// A nine-digit organisation number with the mod-11 check digit (weights 3 2 7 6 5 4 3 2).
    static func organisationNumber(_ index: Int) -> String {
        var base = 991_000_00 + index * 1_237
        while true {
            let digits = String(base).utf8.map { Int($0) - 48 }
            let sum = zip(digits, [3, 2, 7, 6, 5, 4, 3, 2]).reduce(0) { $0 + $1.0 * $1.1 }
            let check = (11 - sum % 11) % 11
            if check < 10 { return String(base) + String(check) }
            base += 1
        }
    }

    /// The register as `Unit` messages. Every institution reports like an HF (a private one is its
    /// own HF, spec messages.md §4), so `hfId` = `institutionId` throughout.
    static let units: [Unit] = {
        var out: [Unit] = []
        for (i, institution) in institutions.enumerated() {
            let orgNr = organisationNumber(i)
            let validFrom = institution.ownership == .public ? LocalDate(year: 2002, month: 1, day: 1)! : LocalDate(year: 2004, month: 1, day: 1)!
            for unit in institution.units {
                out.append(
                    Unit(
                        unitId: "TSB-" + String(101 + out.count), name: institution.name + ", " + unit.name,
                        institutionId: orgNr, institutionName: institution.name, hfId: orgNr, hfName: institution.name,
                        rhf: institution.rhf, ownership: institution.ownership,
                        detox: unit.role == .detox, validFrom: validFrom))
            }
        }
        return out
    }()

    /// Catchment key of each institution of this register, by `hfId`.
    static let catchmentByHF: [String: String] = {
        var d: [String: String] = [:]
        for (i, institution) in institutions.enumerated() { if let c = institution.catchment { d[organisationNumber(i)] = c } }
        return d
    }()

    /// The role a unit plays for the generator. Units of this register carry it in their names; for a
    /// register passed in from elsewhere, a non-detox unit whose name says neither serves both roles.
    static func roles(of unit: Unit) -> [Role] {
        if unit.detox { return [.detox] }
        let name = unit.name.lowercased()
        if name.contains("poliklinikk") { return [.outpatient] }
        if name.contains("døgn") { return [.inpatient] }
        return [.outpatient, .inpatient]
    }
}

/// Oslo's bydeler (SKDE, reference/bydel_til_hf.csv): the hospital area each belongs to.
enum OsloDistricts {
    static let ous = "Oslo", lovisenberg = "Lovisenberg", diakonhjemmet = "Diakonhjemmet", akershus = "Akershus"
    /// Residential bydeler (Marka, Sentrum and "uoppgitt" are left out: almost nobody lives there).
    static let all: [(code: String, area: String)] = [
        ("030101", lovisenberg), ("030102", lovisenberg), ("030103", ous), ("030104", lovisenberg),
        ("030105", diakonhjemmet), ("030106", diakonhjemmet), ("030107", diakonhjemmet), ("030108", ous),
        ("030109", ous), ("030110", akershus), ("030111", akershus), ("030112", akershus),
        ("030113", ous), ("030114", ous), ("030115", ous),
    ]
}
