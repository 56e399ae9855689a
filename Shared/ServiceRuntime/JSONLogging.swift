import Foundation
import Logging
import Synchronization

/// One JSON object per line on standard output: `ts`, `level`, `service`, `logger`, `msg`, metadata.
public struct JSONLineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let service: String
    static let output = Mutex(())

    public init(label: String, service: String, level: Logger.Level) {
        self.label = label
        self.service = service
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (k, v) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { fields[k] = "\(v)" }
        if let error = event.error { fields["error"] = "\(error)" }
        fields["ts"] = ISO8601DateFormatter().string(from: Date())
        fields["level"] = event.level.rawValue
        fields["service"] = service
        fields["logger"] = label
        fields["msg"] = event.message.description
        guard var data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
        data.append(0x0A)
        Self.output.withLock { _ in FileHandle.standardOutput.write(data) }
    }
}

public enum LoggingSetup {
    /// Bootstraps swift-log once per process with JSON lines at the configured level.
    public static func bootstrap(service: String, level: String) {
        let l = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { JSONLineLogHandler(label: $0, service: service, level: l) }
    }
}
