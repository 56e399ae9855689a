@preconcurrency import Crypto
import Foundation
import IntakeLedger
import ServiceRuntime

/// Who may submit, and the key that pseudonymises: read once at start from configuration.
struct Credentials: Sendable {
    let pseudonymKey: SymmetricKey
    /// Token → the institutions it reports for (`*`: every one, the admin).
    let tokens: [String: Set<String>]

    init(configuration: ServiceConfiguration) throws {
        pseudonymKey = try Self.pseudonymKey(configuration)
        tokens = try Self.tokens(configuration)
    }

    /// Explicit in production (`PseudonymKey.parse`); generated once under the state directory in development,
    /// where a key that cannot be kept is an error (a new key each start would break linking).
    private static func pseudonymKey(_ config: ServiceConfiguration) throws -> SymmetricKey {
        func parse(_ text: String, _ variable: String) throws -> SymmetricKey {
            do { return try PseudonymKey.parse(text) } catch { throw ConfigurationError(variable: variable, problem: error.problem) }
        }
        if let text = config.environment["NPR_PSEUDONYM_KEY"], !text.isEmpty { return try parse(text, "NPR_PSEUDONYM_KEY") }
        if let file = config.environment["NPR_PSEUDONYM_KEY_FILE"], !file.isEmpty {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ConfigurationError(variable: "NPR_PSEUDONYM_KEY_FILE", problem: "cannot read \(file)")
            }
            return try parse(String(decoding: data, as: UTF8.self), "NPR_PSEUDONYM_KEY_FILE")
        }
        guard config.mode == .development else {
            throw ConfigurationError(variable: "NPR_PSEUDONYM_KEY", problem: "production mode needs NPR_PSEUDONYM_KEY or NPR_PSEUDONYM_KEY_FILE")
        }
        let path = config.stateDirectory + "/pseudonym.key"
        if let existing = FileManager.default.contents(atPath: path) { return SymmetricKey(data: existing) }
        try FileManager.default.createDirectory(atPath: config.stateDirectory, withIntermediateDirectories: true)
        let key = SymmetricKey(size: .bits256)
        guard FileManager.default.createFile(atPath: path, contents: key.withUnsafeBytes { Data($0) }, attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError(variable: "NPR_STATE_DIR", problem: "cannot keep the development pseudonym key at \(path)")
        }
        return key
    }

    /// A JSON file `{"<token>": ["<institutionId>", …]}` where `"*"` means every institution (admin); in
    /// development the admin token `$NPR_ADMIN_TOKEN` (default `dev-admin-token`) is added.
    private static func tokens(_ config: ServiceConfiguration) throws -> [String: Set<String>] {
        var tokens: [String: Set<String>] = [:]
        if let file = config.environment["NPR_TOKEN_FILE"], !file.isEmpty {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ConfigurationError(variable: "NPR_TOKEN_FILE", problem: "cannot read \(file)")
            }
            guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: [String]] else {
                throw ConfigurationError(variable: "NPR_TOKEN_FILE", problem: "must be a JSON object of token → [institutionId or \"*\"]")
            }
            tokens = obj.mapValues(Set.init)
        } else if config.mode == .production {
            throw ConfigurationError(variable: "NPR_TOKEN_FILE", problem: "required in production mode")
        }
        if config.mode == .development { tokens[config.environment["NPR_ADMIN_TOKEN"] ?? "dev-admin-token"] = ["*"] }
        return tokens
    }

    /// The caller an `Authorization` header names, or why it names none (the problem's detail).
    func caller(authorization header: String?) -> Result<Caller, Unauthorized> {
        guard let header, header.hasPrefix("Bearer ") else { return .failure(Unauthorized(detail: "send Authorization: Bearer <token>")) }
        guard let allowed = tokens[String(header.dropFirst(7))] else { return .failure(Unauthorized(detail: "unknown token")) }
        return .success(Caller(institutions: allowed))
    }

    struct Unauthorized: Error {
        let detail: String
    }
}

/// Who submits: the institutions a token covers (`*`: every one, the admin).
struct Caller: Sendable {
    let institutions: Set<String>
    var isAdmin: Bool { institutions.contains("*") }
    func mayReport(for institution: String) -> Bool { isAdmin || institutions.contains(institution) }
}
