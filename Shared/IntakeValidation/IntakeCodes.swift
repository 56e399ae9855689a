/// Every machine-readable rejection code intake can return (documented in docs/intake-errors.md).
/// Raw values are the wire codes: stable kebab-case, never renamed.
public enum IntakeErrorCode: String, Codable, Sendable, Hashable, CaseIterable {
    // Shape of a value.
    case required = "required"
    case invalidType = "invalid-type"
    case invalidLength = "invalid-length"
    case invalidFormat = "invalid-format"
    case invalidCode = "invalid-code"
    case outOfRange = "out-of-range"
    case invalidDate = "invalid-date"
    case invalidDateTime = "invalid-date-time"
    case invalidJSON = "invalid-json"
    // Rules across fields.
    case endBeforeStart = "end-before-start"
    case nullOnlyForInpatient = "null-only-for-inpatient"
    case districtRequiresOslo = "district-requires-oslo"
    case beforeBirth = "before-birth"
    case ambiguousMunicipality = "ambiguous-municipality"
    // Person id.
    case invalidCheckDigit = "invalid-check-digit"
    case invalidBirthDate = "invalid-birth-date"
    case disagreesWithPersonId = "disagrees-with-person-id"
    // Unit register.
    case unknownUnit = "unknown-unit"
    case unitInstitutionMismatch = "unit-institution-mismatch"
    // Decided by the intake service (state or authorisation), not by the pure validators.
    case conflict = "conflict"
    case revisionConflict = "revision-conflict"
    case forbiddenInstitution = "forbidden-institution"
    case duplicate = "duplicate"
}

/// Codes of warnings on accepted records.
public enum IntakeWarningCode: String, Codable, Sendable, Hashable, CaseIterable {
    case personIdInvalid = "person-id-invalid"
}

/// One reason a record was rejected. `message` is English for people and never quotes a submitted
/// value (so never a person id or any part of one); `field` is the dotted wire path
/// (`patient.personId`, `conditions[2]`), or "" when the record as a whole is at fault.
public struct FieldError: Hashable, Sendable, Codable, CustomStringConvertible {
    public var field: String
    public var code: IntakeErrorCode
    public var message: String

    public init(field: String, code: IntakeErrorCode, message: String) {
        self.field = field
        self.code = code
        self.message = message
    }

    public var description: String { (field.isEmpty ? "(record)" : field) + " " + code.rawValue + ": " + message }
}

/// A remark on an accepted record, shown in the receipt.
public struct Warning: Hashable, Sendable, Codable, CustomStringConvertible {
    public var field: String
    public var code: IntakeWarningCode
    public var message: String

    public init(field: String, code: IntakeWarningCode, message: String) {
        self.field = field
        self.code = code
        self.message = message
    }

    public var description: String { field + " " + code.rawValue + ": " + message }
}

/// The rejections decided outside the pure validators, so that every service words them the same way.
extension FieldError {
    /// A record that is JSON but not an object.
    public static let notAnObject = FieldError(field: "", code: .invalidType, message: "the record must be a JSON object")

    /// A body line or Kafka message that is not JSON at all.
    public static func invalidJSON(_ error: JSONParseError) -> FieldError {
        FieldError(field: "", code: .invalidJSON, message: "the record is not valid JSON: " + error.description)
    }

    /// The `messageId` was accepted before with different content (canonical JSON differs).
    public static let conflict = FieldError(
        field: "messageId", code: .conflict,
        message: "this messageId was already accepted with different content; send changes under a new messageId")

    /// A different non-annulment version of the episode was already accepted at this revision.
    public static let revisionConflict = FieldError(
        field: "revision", code: .revisionConflict,
        message: "a different version of this episode was already accepted at this revision; send a higher revision")

    /// The caller's token may not report for this institution.
    public static let forbiddenInstitution = FieldError(
        field: "institutionId", code: .forbiddenInstitution,
        message: "the credentials used may not report for this institution")

    /// The same `messageId` with the same content was already accepted (counted as a duplicate, not an error).
    public static let duplicate = FieldError(
        field: "messageId", code: .duplicate,
        message: "this message was already accepted with the same content; nothing was changed")
}
