import NPRCore

@testable import IntakeValidation

/// Shared test records and small helpers to edit them.
enum Fixtures {
    static let institution = "974589095"
    static let otherInstitution = "983974899"
    static let longUnitId = String(repeating: "U", count: 32)

    static func unit(_ id: String, institution: String) -> NPRCore.Unit {
        NPRCore.Unit(
            unitId: id, name: "Unit " + id, institutionId: institution, institutionName: "Institution",
            hfId: institution, hfName: "HF", rhf: .sorOst, ownership: .public, detox: false,
            validFrom: LocalDate(year: 2020, month: 1, day: 1)!)
    }

    static let register: [String: NPRCore.Unit] = [
        "U1": unit("U1", institution: institution),
        "U2": unit("U2", institution: otherInstitution),
        longUnitId: unit(longUnitId, institution: institution),
    ]

    static let units: @Sendable (String) -> NPRCore.Unit? = { register[$0] }

    /// A complete, valid inpatient episode. Person id 17058012327 is 1980-05-17 (see PersonIdTests).
    static let activityText = #"""
        {"messageId":"msg-0001","status":"N","revision":1,"institutionId":"974589095","episodeId":"ep-1","unitId":"U1","sector":"TSB",
         "patient":{"personId":"17058012327","sex":1,"birthDate":"1980-05-17","municipality":"0301","district":"030105"},
         "referral":{"receivedDate":"2024-01-15","rightToHealthcare":3},
         "careLevel":1,"admissionUrgency":4,"start":"2024-03-01T08:00","end":"2024-03-10T12:30","endType":1,
         "contactType":2,"activityPlace":1,"activityType":1,"indirectActivity":22,"conditions":["F102","Z5030"],"tariffs":["P12","P14a"]}
        """#

    static let activity: JSONValue = try! JSONValue.parse(activityText)

    /// A valid death: person id 24124595076 is 1945-12-24 (see PersonIdTests).
    static let death: JSONValue = try! JSONValue.parse(
        #"""
        {"messageId":"d-1","status":"N","personId":"24124595076","deathDate":"2024-06-30","sex":1,"birthDate":"1945-12-24","municipality":"4601"}
        """#)

    static let population: JSONValue = try! JSONValue.parse(
        #"""
        {"year":2024,"municipality":"0301","sex":2,"age":35,"count":4711}
        """#)

    static let unitRecord: JSONValue = try! JSONValue.parse(
        #"""
        {"unitId":"U9","name":"Avrusning","institutionId":"974589095","institutionName":"Oslo universitetssykehus HF",
         "hfId":"974589095","hfName":"Oslo universitetssykehus HF","rhf":"sor-ost","ownership":"public","detox":true,"validFrom":"2019-01-01"}
        """#)

    static func str(_ s: String) -> JSONValue { .string(s) }
    static func num(_ text: String) -> JSONValue { .number(JSONNumber(text)!) }
    static func int(_ i: Int) -> JSONValue { num(String(i)) }

    /// `value` with the member at the dotted `path` replaced (or added at the end), or removed when `new` is nil.
    static func edit(_ value: JSONValue, _ path: String, _ new: JSONValue?) -> JSONValue {
        var keys = path.split(separator: ".").map(String.init)
        let key = keys.removeFirst()
        guard case .object(let o) = value else { return value }
        var members = o.members
        let index = members.firstIndex { $0.key == key }
        let replacement: JSONValue?
        if keys.isEmpty {
            replacement = new
        } else {
            replacement = edit(index.map { members[$0].value } ?? .object(JSONObject([])), keys.joined(separator: "."), new)
        }
        switch (index, replacement) {
        case (let i?, let r?): members[i] = .init(key: key, value: r)
        case (let i?, nil): members.remove(at: i)
        case (nil, let r?): members.append(.init(key: key, value: r))
        case (nil, nil): break
        }
        return .object(JSONObject(members))
    }

    static func edits(_ value: JSONValue, _ changes: [(String, JSONValue?)]) -> JSONValue {
        changes.reduce(value) { edit($0, $1.0, $1.1) }
    }
}

// Short JSON literals for the rule tables.
func s(_ text: String) -> JSONValue { Fixtures.str(text) }
func n(_ text: String) -> JSONValue { Fixtures.num(text) }
func i(_ value: Int) -> JSONValue { Fixtures.int(value) }
