import NPRCore

/// Where a patient is treated, from whatever unit register the caller passes: outpatient care in the
/// patient's own catchment area, detoxification in the region, treatment stays at public or private
/// units of the region (and now and then anywhere in the country).
struct UnitCatalogue: Sendable {
    let units: [Unit]
    private var outpatientByCatchment: [String: [Int16]] = [:]
    private var outpatientByRHF: [RHF: [Int16]] = [:]
    private var privateOutpatientByRHF: [RHF: [Int16]] = [:]
    private var detoxByCatchment: [String: [Int16]] = [:]
    private var detoxByRHF: [RHF: [Int16]] = [:]
    private var publicInpatientByRHF: [RHF: [Int16]] = [:]
    private var privateInpatientByRHF: [RHF: [Int16]] = [:]
    private var outpatient: [Int16] = [], detox: [Int16] = [], inpatient: [Int16] = []

    init(units: [Unit]) {
        precondition(units.count < Int(Int16.max), "unit register too large for the compact drafts")
        self.units = units
        for (i, unit) in units.enumerated() {
            let index = Int16(i)
            let catchment = UnitRegister.catchmentByHF[unit.hfId]
            let isPublic = unit.ownership == .public
            for role in UnitRegister.roles(of: unit) {
                switch role {
                case .outpatient:
                    outpatient.append(index)
                    outpatientByRHF[unit.rhf, default: []].append(index)
                    if let catchment { outpatientByCatchment[catchment, default: []].append(index) }
                    if !isPublic && catchment == nil { privateOutpatientByRHF[unit.rhf, default: []].append(index) }
                case .detox:
                    detox.append(index)
                    detoxByRHF[unit.rhf, default: []].append(index)
                    if let catchment { detoxByCatchment[catchment, default: []].append(index) }
                case .inpatient:
                    inpatient.append(index)
                    if isPublic {
                        publicInpatientByRHF[unit.rhf, default: []].append(index)
                    } else {
                        privateInpatientByRHF[unit.rhf, default: []].append(index)
                    }
                }
            }
        }
        precondition(!outpatient.isEmpty || !inpatient.isEmpty, "the unit register needs at least one non-detox unit")
        if outpatient.isEmpty { outpatient = inpatient }
        if inpatient.isEmpty { inpatient = outpatient }
        if detox.isEmpty { detox = inpatient }
    }

    /// The first non-empty candidate list (the last one passed is never empty).
    private static func first(_ candidates: [Int16]?...) -> [Int16] {
        for candidate in candidates { if let candidate, !candidate.isEmpty { return candidate } }
        preconditionFailure("no unit for this role")
    }

    /// The person's regular outpatient unit: the catchment area's clinic; one in ten goes to a private
    /// clinic of the region where there is one.
    func outpatientUnit(catchment: String, rhf: RHF, _ rng: inout SplitMix64) -> Int16 {
        if rng.chance(0.1), let privateClinics = privateOutpatientByRHF[rhf], !privateClinics.isEmpty { return rng.pick(privateClinics) }
        return rng.pick(UnitCatalogue.first(outpatientByCatchment[catchment], outpatientByRHF[rhf], outpatient))
    }

    func detoxUnit(catchment: String, rhf: RHF, _ rng: inout SplitMix64) -> Int16 {
        rng.pick(UnitCatalogue.first(detoxByCatchment[catchment], detoxByRHF[rhf], detox))
    }

    /// Treatment stays: private institutions give most of TSB's bed days (NPR 2023: 63 %).
    func treatmentUnit(rhf: RHF, _ rng: inout SplitMix64) -> Int16 {
        if rng.chance(0.05) { return rng.pick(inpatient) }
        let preferPrivate = rng.chance(0.55)
        let ordered = preferPrivate ? [privateInpatientByRHF[rhf], publicInpatientByRHF[rhf]] : [publicInpatientByRHF[rhf], privateInpatientByRHF[rhf]]
        return rng.pick(UnitCatalogue.first(ordered[0], ordered[1], inpatient))
    }

    func isPrivate(_ unit: Int16) -> Bool { units[Int(unit)].ownership != .public }
}
