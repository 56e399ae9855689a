import Foundation
import Kafka
import NPRCore
import Testing

@testable import ServiceRuntime

/// One owner of a service's state at a time (`InstanceLock`): a second holder is refused while the first
/// holds the lock, learns who holds it, and gets it once the first lets go (as the kernel does for a
/// process that ends however it ends).
struct InstanceLockTests {
    @Test func oneHolderAtATimeAndTheNextTakesOverWhenItEnds() throws {
        let path = NSTemporaryDirectory() + "npr-lock-" + UUID().uuidString + "/episode-linker.lock"
        var owner = try InstanceLock.acquire(path: path)
        #expect(owner != nil)
        #expect(try InstanceLock.acquire(path: path) == nil)
        #expect(InstanceLock.holder(path: path) == getpid())
        owner = nil
        let next = try InstanceLock.acquire(path: path)
        #expect(next != nil)
        #expect(try InstanceLock.acquire(path: path) == nil)
    }

    @Test func aLockThatCannotBeOpenedIsAStartupError() {
        #expect(throws: StartupError.self) { try InstanceLock.acquire(path: "/proc/npr-no-such-dir/x.lock") }
    }

    /// The catalogue's partitions of a service's inputs: what a lone instance is assigned.
    @Test func aLoneInstanceIsAssignedEveryPartitionOfItsInputs() {
        let all = Topic.everyPartition(of: ["npr.activities", "npr.reference.units"])
        #expect(all.count == 7)
        #expect(all.contains(.init("npr.activities", 5)) && all.contains(.init("npr.reference.units", 0)))
    }
}
