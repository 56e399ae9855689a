/// Keyed-container overloads that NPRCore's synthesized `Codable` conformances pick over the generic
/// `encode<T>`/`decode<T>` for the single-string types (dates, patient keys). Foundation's JSON coders
/// build a nested encoder or decoder for every generic value, about ten times the work of a string
/// field, and an episode carries three dates. The JSON and the decoding errors are the same as through
/// the types' own `Codable` conformances.
extension KeyedEncodingContainer {
    mutating func encode(_ value: LocalDate, forKey key: Key) throws { try encode(value.description, forKey: key) }
    mutating func encode(_ value: LocalDateTime, forKey key: Key) throws { try encode(value.description, forKey: key) }
    mutating func encode(_ value: PatientKey, forKey key: Key) throws { try encode(value.rawValue, forKey: key) }
    mutating func encodeIfPresent(_ value: LocalDate?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    mutating func encodeIfPresent(_ value: LocalDateTime?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
}

extension KeyedDecodingContainer {
    func decode(_ type: LocalDate.Type, forKey key: Key) throws -> LocalDate {
        try LocalDate.decoded(decode(String.self, forKey: key), codingPath: codingPath + [key])
    }
    func decode(_ type: LocalDateTime.Type, forKey key: Key) throws -> LocalDateTime {
        try LocalDateTime.decoded(decode(String.self, forKey: key), codingPath: codingPath + [key])
    }
    func decode(_ type: PatientKey.Type, forKey key: Key) throws -> PatientKey {
        PatientKey(rawValue: try decode(String.self, forKey: key))
    }
    func decodeIfPresent(_ type: LocalDate.Type, forKey key: Key) throws -> LocalDate? {
        try decodeIfPresent(String.self, forKey: key).map { try LocalDate.decoded($0, codingPath: codingPath + [key]) }
    }
    func decodeIfPresent(_ type: LocalDateTime.Type, forKey key: Key) throws -> LocalDateTime? {
        try decodeIfPresent(String.self, forKey: key).map { try LocalDateTime.decoded($0, codingPath: codingPath + [key]) }
    }
}
