/// The JSON wire forms (see `JSONWire.swift`) of the events and cells every stateful service decodes or
/// encodes per message. Fields are written in the byte order of their keys, as `.sortedKeys` writes
/// them, and read in any order; a required key that is missing is an error, as in the synthesized
/// `Decodable`. `WireFormTests` checks each form against Foundation's coders.

extension LocalDate: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        guard (0...9999).contains(year) else {
            json.value(description)
            return
        }
        json.asciiValue(count: 10) { write(to: $0) }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        self = try json.parsedString(Self.stringFormat) { LocalDate(utf8: $0) }
    }
}

extension LocalDateTime: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        guard (0...9999).contains(date.year) else {
            json.value(description)
            return
        }
        json.asciiValue(count: 16) { write(to: $0) }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        self = try json.parsedString(Self.stringFormat) { LocalDateTime(utf8: $0) }
    }
}

extension Period: JSONWireCodable {
    public func write(to json: inout JSONWriter) { json.value(description) }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        self = try json.parsedString(Self.stringFormat) { Period(String(decoding: $0, as: UTF8.self)) }
    }
}

extension PatientKey: JSONWireCodable {
    public func write(to json: inout JSONWriter) { json.value(rawValue) }
    public init(from json: inout JSONReader) throws(JSONWireError) { self.init(rawValue: try json.string()) }
}

extension ActivityEvent.Kind: JSONWireCodable {}
extension Stay.Kind: JSONWireCodable {}
extension Indicator: JSONWireCodable {}
extension Level: JSONWireCodable {}
extension Sex: JSONWireCodable {}
extension ValueFormula: JSONWireCodable {}
extension DeathStatus: JSONWireCodable {}

extension EpisodeKey: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("episodeId", episodeId)
            $0.field("institutionId", institutionId)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var episodeId: String?, institutionId: String?
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "episodeId": episodeId = try json.decode()
            case "institutionId": institutionId = try json.decode()
            default: try json.skipValue()
            }
        }
        try self.init(
            institutionId: json.required(institutionId, "institutionId"),
            episodeId: json.required(episodeId, "episodeId"))
    }
}

extension Episode: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("activityPlace", activityPlace)
            $0.field("activityType", activityType)
            $0.field("birthDate", birthDate)
            $0.field("careLevel", careLevel)
            $0.field("contactType", contactType)
            $0.field("district", district)
            $0.field("end", end)
            $0.field("endType", endType)
            $0.field("episodeId", episodeId)
            $0.field("indirectActivity", indirectActivity)
            $0.field("institutionId", institutionId)
            $0.field("mainCondition", mainCondition)
            $0.field("municipality", municipality)
            $0.field("pseudonym", pseudonym)
            $0.field("rightToHealthcare", rightToHealthcare)
            $0.field("sector", sector)
            $0.field("sex", sex)
            $0.field("start", start)
            $0.field("tariffs", tariffs)
            $0.field("unitId", unitId)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var institutionId: String?, episodeId: String?, unitId: String?, sector: String?, pseudonym: String?
        var sex: Int?, birthDate: LocalDate?, municipality: String?, district: String?, rightToHealthcare: Int?
        var careLevel: Int?, start: LocalDateTime?, end: LocalDateTime?, endType: Int?, contactType: Int?
        var activityPlace: Int?, activityType: Int?, indirectActivity: Int?, mainCondition: String?, tariffs: [String]?
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "activityPlace": activityPlace = try json.decodeIfPresent()
            case "activityType": activityType = try json.decodeIfPresent()
            case "birthDate": birthDate = try json.decode()
            case "careLevel": careLevel = try json.decode()
            case "contactType": contactType = try json.decodeIfPresent()
            case "district": district = try json.decodeIfPresent()
            case "end": end = try json.decodeIfPresent()
            case "endType": endType = try json.decodeIfPresent()
            case "episodeId": episodeId = try json.decode()
            case "indirectActivity": indirectActivity = try json.decodeIfPresent()
            case "institutionId": institutionId = try json.decode()
            case "mainCondition": mainCondition = try json.decodeIfPresent()
            case "municipality": municipality = try json.decodeIfPresent()
            case "pseudonym": pseudonym = try json.decodeIfPresent()
            case "rightToHealthcare": rightToHealthcare = try json.decodeIfPresent()
            case "sector": sector = try json.decode()
            case "sex": sex = try json.decode()
            case "start": start = try json.decode()
            case "tariffs": tariffs = try json.decodeArray()
            case "unitId": unitId = try json.decode()
            default: try json.skipValue()
            }
        }
        try self.init(
            institutionId: json.required(institutionId, "institutionId"),
            episodeId: json.required(episodeId, "episodeId"), unitId: json.required(unitId, "unitId"),
            sector: json.required(sector, "sector"), pseudonym: pseudonym, sex: json.required(sex, "sex"),
            birthDate: json.required(birthDate, "birthDate"), municipality: municipality, district: district,
            rightToHealthcare: rightToHealthcare, careLevel: json.required(careLevel, "careLevel"),
            start: json.required(start, "start"), end: end, endType: endType, contactType: contactType,
            activityPlace: activityPlace, activityType: activityType, indirectActivity: indirectActivity,
            mainCondition: mainCondition, tariffs: json.required(tariffs, "tariffs"))
    }
}

extension ActivityEvent: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("episode", episode)
            $0.field("episodeKey", episodeKey)
            $0.field("kind", kind)
            $0.field("patientKey", patientKey)
            $0.field("revision", revision)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var episode: Episode?, episodeKey: EpisodeKey?, kind: Kind?, patientKey: PatientKey?, revision: Int?
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "episode": episode = try json.decodeIfPresent()
            case "episodeKey": episodeKey = try json.decode()
            case "kind": kind = try json.decode()
            case "patientKey": patientKey = try json.decode()
            case "revision": revision = try json.decode()
            default: try json.skipValue()
            }
        }
        try self.init(
            kind: json.required(kind, "kind"), patientKey: json.required(patientKey, "patientKey"),
            episodeKey: json.required(episodeKey, "episodeKey"), revision: json.required(revision, "revision"),
            episode: episode)
    }
}

extension EpisodeSlot: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("episode", episode)
            $0.field("revision", revision)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var episode: Episode?, revision: Int?
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "episode": episode = try json.decodeIfPresent()
            case "revision": revision = try json.decode()
            default: try json.skipValue()
            }
        }
        try self.init(revision: json.required(revision, "revision"), episode: episode)
    }
}

extension EpisodeAssignment: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("episode", episode)
            $0.field("key", key)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var episode: Episode?, key: EpisodeKey?
        try json.object { (name, json) throws(JSONWireError) in
            switch name {
            case "episode": episode = try json.decodeIfPresent()
            case "key": key = try json.decode()
            default: try json.skipValue()
            }
        }
        try self.init(key: json.required(key, "key"), episode: episode)
    }
}

extension Stay: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("end", end)
            $0.field("endType", endType)
            $0.field("episodes", episodes)
            $0.field("id", id)
            $0.field("institutionId", institutionId)
            $0.field("kind", kind)
            $0.field("lastEpisode", lastEpisode)
            $0.field("patientKey", patientKey)
            $0.field("start", start)
            $0.field("unitId", unitId)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var end: LocalDateTime?, endType: Int?, episodes: [EpisodeKey]?, id: String?, institutionId: String?
        var kind: Kind?, lastEpisode: EpisodeKey?, patientKey: PatientKey?, start: LocalDateTime?, unitId: String?
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "end": end = try json.decodeIfPresent()
            case "endType": endType = try json.decodeIfPresent()
            case "episodes": episodes = try json.decodeArray()
            case "id": id = try json.decode()
            case "institutionId": institutionId = try json.decode()
            case "kind": kind = try json.decode()
            case "lastEpisode": lastEpisode = try json.decode()
            case "patientKey": patientKey = try json.decode()
            case "start": start = try json.decode()
            case "unitId": unitId = try json.decode()
            default: try json.skipValue()
            }
        }
        try self.init(
            id: json.required(id, "id"), kind: json.required(kind, "kind"),
            patientKey: json.required(patientKey, "patientKey"), episodes: json.required(episodes, "episodes"),
            start: json.required(start, "start"), end: end,
            lastEpisode: json.required(lastEpisode, "lastEpisode"), endType: endType,
            unitId: json.required(unitId, "unitId"), institutionId: json.required(institutionId, "institutionId"))
    }
}

extension StayChangelog: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("asserted", asserted)
            $0.field("episodes", episodes)
            $0.field("patientKey", patientKey)
            $0.field("retracted", retracted)
            $0.field("sequence", sequence)
            $0.field("stays", stays)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var asserted: [String]?, episodes: [EpisodeAssignment]?, patientKey: PatientKey?, retracted: [String]?
        var sequence: Int?, stays: [Stay]?
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "asserted": asserted = try json.decodeArray()
            case "episodes": episodes = try json.decodeArray()
            case "patientKey": patientKey = try json.decode()
            case "retracted": retracted = try json.decodeArray()
            case "sequence": sequence = try json.decode()
            case "stays": stays = try json.decodeArray()
            default: try json.skipValue()
            }
        }
        try self.init(
            patientKey: json.required(patientKey, "patientKey"), sequence: json.required(sequence, "sequence"),
            episodes: json.required(episodes, "episodes"), stays: json.required(stays, "stays"),
            retracted: json.required(retracted, "retracted"), asserted: json.required(asserted, "asserted"))
    }
}

extension CellKey: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("indicator", indicator)
            $0.field("level", level)
            $0.field("measure", measure)
            $0.field("period", period)
            $0.field("sex", sex)
            $0.field("unit", unit)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var indicator: Indicator?, level: Level?, measure: String?, period: Period?, sex: Sex?, unit: String?
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "indicator": indicator = try json.decode()
            case "level": level = try json.decode()
            case "measure": measure = try json.decode()
            case "period": period = try json.decode()
            case "sex": sex = try json.decode()
            case "unit": unit = try json.decode()
            default: try json.skipValue()
            }
        }
        try self.init(
            indicator: json.required(indicator, "indicator"), measure: json.required(measure, "measure"),
            period: json.required(period, "period"), level: json.required(level, "level"),
            unit: json.required(unit, "unit"), sex: json.required(sex, "sex"))
    }
}

extension Cell: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("asOf", asOf)
            $0.field("d1", d1)
            $0.field("d2", d2)
            $0.field("denominator", denominator)
            $0.field("formula", formula)
            $0.field("key", key)
            $0.field("n1", n1)
            $0.field("n2", n2)
            $0.field("numerator", numerator)
            $0.field("parent", parent)
            $0.field("patients", patients)
            $0.field("scale", scale)
            $0.field("size", size)
            $0.field("unitName", unitName)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var asOf: LocalDate?, d1: Int?, d2: Int?, denominator: Int?, formula: ValueFormula?, key: CellKey?
        var n1: Int?, n2: Int?, numerator: Int?, parent: String?, patients: Int?, scale: Double?, size: Int?, unitName: String?
        try json.object { (name, json) throws(JSONWireError) in
            switch name {
            case "asOf": asOf = try json.decode()
            case "d1": d1 = try json.decodeIfPresent()
            case "d2": d2 = try json.decodeIfPresent()
            case "denominator": denominator = try json.decodeIfPresent()
            case "formula": formula = try json.decode()
            case "key": key = try json.decode()
            case "n1": n1 = try json.decodeIfPresent()
            case "n2": n2 = try json.decodeIfPresent()
            case "numerator": numerator = try json.decode()
            case "parent": parent = try json.decodeIfPresent()
            case "patients": patients = try json.decode()
            case "scale": scale = try json.decodeIfPresent()
            case "size": size = try json.decode()
            case "unitName": unitName = try json.decodeIfPresent()
            default: try json.skipValue()
            }
        }
        try self.init(
            key: json.required(key, "key"), formula: json.required(formula, "formula"),
            numerator: json.required(numerator, "numerator"), denominator: denominator, scale: scale,
            patients: json.required(patients, "patients"), size: json.required(size, "size"), parent: parent,
            unitName: unitName, d1: d1, n1: n1, d2: d2, n2: n2, asOf: json.required(asOf, "asOf"))
    }
}

extension CellUpdate: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("cell", cell)
            $0.field("key", key)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var cell: Cell?, key: CellKey?
        try json.object { (name, json) throws(JSONWireError) in
            switch name {
            case "cell": cell = try json.decodeIfPresent()
            case "key": key = try json.decode()
            default: try json.skipValue()
            }
        }
        try self.init(key: json.required(key, "key"), cell: cell)
    }
}

extension DeathEvent: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("birthDate", birthDate)
            $0.field("deathDate", deathDate)
            $0.field("municipality", municipality)
            $0.field("pseudonym", pseudonym)
            $0.field("sex", sex)
            $0.field("status", status)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var birthDate: LocalDate?, deathDate: LocalDate?, municipality: String?, pseudonym: String?, sex: Int?, status: DeathStatus?
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "birthDate": birthDate = try json.decode()
            case "deathDate": deathDate = try json.decode()
            case "municipality": municipality = try json.decodeIfPresent()
            case "pseudonym": pseudonym = try json.decode()
            case "sex": sex = try json.decode()
            case "status": status = try json.decode()
            default: try json.skipValue()
            }
        }
        try self.init(
            status: json.required(status, "status"), pseudonym: json.required(pseudonym, "pseudonym"),
            deathDate: json.required(deathDate, "deathDate"), sex: json.required(sex, "sex"),
            birthDate: json.required(birthDate, "birthDate"), municipality: municipality)
    }
}

extension PopulationEvent: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("age", age)
            $0.field("count", count)
            $0.field("municipality", municipality)
            $0.field("sex", sex)
            $0.field("year", year)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var age: Int?, count: Int?, municipality: String?, sex: Int?, year: Int?
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "age": age = try json.decode()
            case "count": count = try json.decode()
            case "municipality": municipality = try json.decode()
            case "sex": sex = try json.decode()
            case "year": year = try json.decode()
            default: try json.skipValue()
            }
        }
        try self.init(
            year: json.required(year, "year"), municipality: json.required(municipality, "municipality"),
            sex: json.required(sex, "sex"), age: json.required(age, "age"), count: json.required(count, "count"))
    }
}

extension PatientStaysHead: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("sequence", sequence)
            $0.field("stays", stays)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var sequence: Int?, stays: [Stay]?
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "sequence": sequence = try json.decode()
            case "stays": stays = try json.decodeArray()
            default: try json.skipValue()
            }
        }
        try self.init(sequence: json.required(sequence, "sequence"), stays: json.required(stays, "stays"))
    }
}

extension PublishedStatus: JSONWireCodable {}

/// Written with explicit nulls, as its `encode(to:)` (the published contract) writes them.
extension PublishedValue: JSONWireCodable {
    public func write(to json: inout JSONWriter) {
        json.object {
            $0.field("asOf", asOf)
            $0.nullableField("ciLower", ciLower)
            $0.nullableField("ciUpper", ciUpper)
            $0.nullableField("denominator", denominator)
            $0.field("indicator", indicator)
            $0.field("level", level)
            $0.field("measure", measure)
            $0.nullableField("numerator", numerator)
            $0.field("period", period)
            $0.field("revision", revision)
            $0.field("sex", sex)
            $0.field("status", status)
            $0.field("unit", unit)
            $0.nullableField("unitName", unitName)
            $0.field("updatedAt", updatedAt)
            $0.nullableField("value", value)
        }
    }
    public init(from json: inout JSONReader) throws(JSONWireError) {
        var asOf: LocalDate?, ciLower: Double?, ciUpper: Double?, denominator: Int?, indicator: String?, level: String?
        var measure: String?, numerator: Int?, period: String?, revision: Int?, sex: String?, status: PublishedStatus?
        var unit: String?, unitName: String?, updatedAt: String?, value: Double?
        try json.object { (key, json) throws(JSONWireError) in
            switch key {
            case "asOf": asOf = try json.decode()
            case "ciLower": ciLower = try json.decodeIfPresent()
            case "ciUpper": ciUpper = try json.decodeIfPresent()
            case "denominator": denominator = try json.decodeIfPresent()
            case "indicator": indicator = try json.decode()
            case "level": level = try json.decode()
            case "measure": measure = try json.decode()
            case "numerator": numerator = try json.decodeIfPresent()
            case "period": period = try json.decode()
            case "revision": revision = try json.decode()
            case "sex": sex = try json.decode()
            case "status": status = try json.decode()
            case "unit": unit = try json.decode()
            case "unitName": unitName = try json.decodeIfPresent()
            case "updatedAt": updatedAt = try json.decode()
            case "value": value = try json.decodeIfPresent()
            default: try json.skipValue()
            }
        }
        try self.init(
            indicator: json.required(indicator, "indicator"), measure: json.required(measure, "measure"),
            period: json.required(period, "period"), level: json.required(level, "level"), unit: json.required(unit, "unit"),
            unitName: unitName, sex: json.required(sex, "sex"), numerator: numerator, denominator: denominator,
            value: value, ciLower: ciLower, ciUpper: ciUpper, status: json.required(status, "status"),
            revision: json.required(revision, "revision"), asOf: json.required(asOf, "asOf"),
            updatedAt: json.required(updatedAt, "updatedAt"))
    }
}
