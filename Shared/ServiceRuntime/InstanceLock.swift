import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Ownership of a service's state: an exclusive lock (flock) on `<state directory>/<service>.lock`, held for
/// the life of the process that owns the service's stores. The kernel releases it when that process ends,
/// however it ends, so a standby instance sharing the state directory takes over at once after a kill -9.
///
/// Why one owner: every service keeps its state whole in one store (the calculator's national cells, the
/// publisher's suppression groups, intake's idempotency ledger), so two instances consuming the same group
/// would each see a part and publish wrong absolute values. Instances of a service therefore share its state
/// directory (one host, or a shared volume with POSIX locks) and only the lock holder runs.
public final class InstanceLock: @unchecked Sendable {
    public let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    /// Takes the lock when no other process (or other holder in this one) has it; nil while one does.
    /// Writes this process's id into the file so that standbys can say who holds it.
    public static func acquire(path: String) throws -> InstanceLock? {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StartupError(description: "cannot create the state directory \(directory) for the instance lock: \(error.localizedDescription)")
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StartupError(description: "cannot open the instance lock \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            close(fd)
            if reason == EWOULDBLOCK { return nil }
            throw StartupError(description: "cannot lock \(path): \(String(cString: strerror(reason)))")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return InstanceLock(path: path, descriptor: fd)
    }

    /// The process id the current holder wrote (for logs and the standby's answers), if readable.
    public static func holder(path: String) -> Int32? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    deinit { close(descriptor) }
}
