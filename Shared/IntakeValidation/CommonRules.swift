import NPRCore

/// Rules shared by several message types: municipality numbers and person ids.
extension RecordReader {
    /// A municipality number: 4 digits and known to the register, either as a 2024 number or as an
    /// older one. Returned as reported, with what it maps to in 2024 numbering.
    mutating func municipality(_ key: String, _ presence: Presence) -> (number: String, resolution: MunicipalityResolution)? {
        guard let f = lookup(key, presence), let number = digits(f.value, at: f.path, count: 4) else { return nil }
        let resolution = MunicipalityRegister.resolve(number)
        guard resolution.isKnown else {
            reject(f.path, .invalidCode, "\(f.path) is neither a 2024 municipality number nor a known older one")
            return nil
        }
        return (number, resolution)
    }

    enum PersonIdReading {
        /// Absent or null.
        case absent
        /// Present but not a string (already recorded as an error).
        case wrongType
        case valid(String, birthDate: LocalDate)
        case invalid(PersonId.Problem)
    }

    /// Reads a person id without judging it: whether an invalid id rejects the record differs by message type.
    mutating func personId(_ key: String) -> PersonIdReading {
        guard let f = lookup(key, .optional) else { return .absent }
        guard case .string(let id) = f.value else {
            reject(f.path, .invalidType, "\(f.path) must be a string of 11 digits")
            return .wrongType
        }
        switch PersonId.birthDate(of: id) {
        case .success(let birth): return .valid(id, birthDate: birth)
        case .failure(let problem): return .invalid(problem)
        }
    }

    mutating func reject(_ field: String, personIdProblem problem: PersonId.Problem) {
        reject(field, problem.errorCode, "\(field) " + problem.explanation)
    }
}

extension PersonId.Problem {
    var errorCode: IntakeErrorCode {
        switch self {
        case .format: return .invalidFormat
        case .checkDigit: return .invalidCheckDigit
        case .birthDate: return .invalidBirthDate
        }
    }

    /// Why the id is unusable, without repeating any of its digits.
    var explanation: String {
        switch self {
        case .format: return "is not a fødselsnummer or D-number: it must be exactly 11 digits"
        case .checkDigit: return "is not a valid fødselsnummer or D-number: a check digit is wrong"
        case .birthDate: return "is not a valid fødselsnummer or D-number: it does not give a real birth date (day, month or century)"
        }
    }
}
