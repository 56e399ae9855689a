/// The partition a keyed message goes to under the `murmur2_random` partitioner (the Java client's
/// default, which every service's producer uses): murmur2 of the key bytes, made positive, modulo the
/// partition count. Lets a consumer tell which of its partitions a key lives in.
public enum KeyPartitioner {
    public static func partition(of key: some Collection<UInt8>, partitions: Int) -> Int32 {
        Int32(Int(murmur2(Array(key)) & 0x7fff_ffff) % partitions)
    }

    public static func partition(of key: String, partitions: Int) -> Int32 { partition(of: key.utf8, partitions: partitions) }

    /// Kafka's murmur2 (32-bit, seed 0x9747b28c), as org.apache.kafka.common.utils.Utils.murmur2.
    static func murmur2(_ data: [UInt8]) -> UInt32 {
        let m: UInt32 = 0x5bd1_e995, r: UInt32 = 24
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: data.count)
        let blocks = data.count / 4
        for i in 0..<blocks {
            let b = i * 4
            var k = UInt32(data[b]) | UInt32(data[b + 1]) << 8 | UInt32(data[b + 2]) << 16 | UInt32(data[b + 3]) << 24
            k = k &* m
            k ^= k >> r
            k = k &* m
            h = h &* m
            h ^= k
        }
        let tail = blocks * 4
        switch data.count % 4 {
        case 3:
            h ^= UInt32(data[tail + 2]) << 16
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 2:
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 1:
            h ^= UInt32(data[tail])
            h = h &* m
        default: break
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return h
    }
}
