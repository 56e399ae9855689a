#if canImport(Glibc)
    import Glibc
#endif

/// glibc's malloc serves allocations above a moving threshold with fresh mmaps and gives memory freed at the
/// top of the heap back to the kernel, so a stage that builds and drops large arrays at every flush (state
/// rows, outputs) gets fresh zero-filled pages each time: profiled at national volume, 13 % of the
/// episode-linker's and the indicator-calculator's CPU went to the kernel clearing pages (`clear_page_erms`,
/// from `sysmalloc` and the flush's copies). Fixed thresholds keep such memory in the heap for reuse.
enum MallocTuning {
    /// Blocks up to this size come from the heap (glibc's largest allowed mmap threshold).
    static let mmapThresholdBytes: Int32 = 32 << 20
    /// Free memory at the heap top kept for reuse instead of returned to the kernel.
    static let trimThresholdBytes: Int32 = 256 << 20
    /// Heaps (arenas) at most: glibc gives each thread that contends one of its own, up to 8 per core, and
    /// memory freed into one is not reused by another (librdkafka's threads free what the stream thread
    /// produced). Profiled at national volume: intake's 700 MiB sat in eleven 64 MiB arenas.
    static let maxArenas: Int32 = 2

    /// Applies the thresholds once, at start; a no-op where malloc is not glibc's.
    static func apply() {
        #if canImport(Glibc)
            // `mallopt` is not in Swift's Glibc module: found at run time (constants from glibc's malloc.h).
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            let M_TRIM_THRESHOLD: Int32 = -1, M_MMAP_THRESHOLD: Int32 = -3, M_ARENA_MAX: Int32 = -8
            guard let symbol = dlsym(nil, "mallopt") else { return }
            let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
            _ = mallopt(M_MMAP_THRESHOLD, mmapThresholdBytes)
            _ = mallopt(M_TRIM_THRESHOLD, trimThresholdBytes)
            _ = mallopt(M_ARENA_MAX, maxArenas)
        #endif
    }
}
