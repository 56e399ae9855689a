/// Values that JSON carries as one string: their `description`, read back with `init?(_:)`.
protocol StringCoded: CustomStringConvertible {
    init?(_ text: String)
    /// What the string must look like, for the decoding error.
    static var stringFormat: String { get }
}

extension StringCoded {
    /// The value in a decoded text, or the decoding error naming `codingPath`.
    static func decoded(_ text: String, codingPath: @autoclosure () -> [CodingKey]) throws -> Self {
        guard let value = Self(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath(), debugDescription: "not \(stringFormat): \(text)"))
        }
        return value
    }
}

extension LocalDate: StringCoded { static let stringFormat = "a date YYYY-MM-DD" }
extension LocalDateTime: StringCoded { static let stringFormat = "a date-time YYYY-MM-DDTHH:MM" }
extension Period: StringCoded { static let stringFormat = "a period" }

/// Keyed-container overloads that NPRCore's synthesized `Codable` conformances pick over the generic
/// `encode<T>`/`decode<T>` for values carried as one string (dates, periods, patient keys, string
/// enums). Foundation's JSON coders build a nested encoder or decoder for every generic value, about
/// ten times the work of a string field, and an episode, a stay or a cell carries several such values.
/// The JSON and the decoding errors are the same as through the types' own `Codable` conformances.
extension KeyedEncodingContainer {
    mutating func encode<T: StringCoded & Encodable>(_ value: T, forKey key: Key) throws {
        try encode(value.description, forKey: key)
    }
    mutating func encodeIfPresent<T: StringCoded & Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value.description, forKey: key) }
    }
    mutating func encode<T: RawRepresentable & Encodable>(_ value: T, forKey key: Key) throws where T.RawValue == String {
        try encode(value.rawValue, forKey: key)
    }
    mutating func encodeIfPresent<T: RawRepresentable & Encodable>(_ value: T?, forKey key: Key) throws where T.RawValue == String {
        if let value { try encode(value.rawValue, forKey: key) }
    }
    mutating func encode(_ value: PatientKey, forKey key: Key) throws { try encode(value.rawValue, forKey: key) }
}

extension KeyedDecodingContainer {
    func decode<T: StringCoded & Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try T.decoded(decode(String.self, forKey: key), codingPath: codingPath + [key])
    }
    func decodeIfPresent<T: StringCoded & Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try decodeIfPresent(String.self, forKey: key).map { try T.decoded($0, codingPath: codingPath + [key]) }
    }
    func decode<T: RawRepresentable & Decodable>(_ type: T.Type, forKey key: Key) throws -> T where T.RawValue == String {
        try Self.rawValue(decode(String.self, forKey: key), as: T.self, codingPath: codingPath + [key])
    }
    func decodeIfPresent<T: RawRepresentable & Decodable>(_ type: T.Type, forKey key: Key) throws -> T? where T.RawValue == String {
        try decodeIfPresent(String.self, forKey: key).map { try Self.rawValue($0, as: T.self, codingPath: codingPath + [key]) }
    }
    func decode(_ type: PatientKey.Type, forKey key: Key) throws -> PatientKey {
        PatientKey(rawValue: try decode(String.self, forKey: key))
    }

    /// The error text is the standard library's for a string enum.
    private static func rawValue<T: RawRepresentable>(_ text: String, as type: T.Type, codingPath: @autoclosure () -> [CodingKey]) throws -> T
    where T.RawValue == String {
        guard let value = T(rawValue: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath(), debugDescription: "Cannot initialize \(T.self) from invalid String value \(text)"))
        }
        return value
    }
}
