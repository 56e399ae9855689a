import NPRCore

/// Turns compact deliveries into wire messages.
struct MessageBuilder: Sendable {
    let people: [Person]
    let units: [Unit]

    static func dateTime(_ minutesSinceEpoch: Int32) -> LocalDateTime {
        let m = Int(minutesSinceEpoch)
        return LocalDateTime(date: LocalDate(dayNumber: m / minutesPerDay), hour: m % minutesPerDay / 60, minute: m % 60)!
    }

    /// `E` and nine digits: unique within every institution because the serial is global.
    static func episodeId(_ serial: Int32) -> String {
        let digits = String(serial)
        return "E" + String(repeating: "0", count: max(0, 9 - digits.count)) + digits
    }

    func message(_ delivery: Delivery) -> ActivityMessage {
        let d = delivery.draft
        let person = people[Int(d.person)]
        let unit = units[Int(d.unit)]
        let episodeId = MessageBuilder.episodeId(d.serial)
        let patient = ActivityMessage.Patient(
            personId: d.omitPersonId ? nil : person.personId, sex: Int(d.sex),
            birthDate: d.withBirthDate ? person.birth : nil,
            municipality: d.municipality < 0 ? nil : ReportedMunicipalities.all[Int(d.municipality)],
            district: d.district < 0 ? nil : OsloDistricts.all[Int(d.district)].code)
        let referral =
            d.referralDay < 0
            ? nil
            : ActivityMessage.Referral(
                receivedDate: LocalDate(dayNumber: Int(d.referralDay)), rightToHealthcare: code(d.rightToHealthcare))
        var conditions: [String]? = nil
        if d.mainCondition >= 0 {
            conditions = [ConditionCodes.all[Int(d.mainCondition)]]
            if d.secondaryCondition >= 0 { conditions!.append(ConditionCodes.all[Int(d.secondaryCondition)]) }
        }
        return ActivityMessage(
            messageId: unit.institutionId + "-" + episodeId + "-" + String(delivery.revision) + delivery.status.rawValue,
            status: delivery.status, revision: Int(delivery.revision), institutionId: unit.institutionId,
            episodeId: episodeId, unitId: unit.unitId, sector: Sectors.all[Int(d.sector)], patient: patient,
            referral: referral, careLevel: Int(d.careLevel), admissionUrgency: code(d.admissionUrgency),
            start: MessageBuilder.dateTime(d.start), end: d.end < 0 ? nil : MessageBuilder.dateTime(d.end),
            endType: code(d.endType), contactType: code(d.contactType), activityPlace: code(d.activityPlace),
            activityType: code(d.activityType), indirectActivity: code(d.indirectActivity), conditions: conditions,
            tariffs: d.tariff < 0 ? nil : [Tariffs.all[Int(d.tariff)]])
    }

    private func code(_ value: Int8) -> Int? { value < 0 ? nil : Int(value) }
}
