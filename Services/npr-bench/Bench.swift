import ArgumentParser
import EpisodeLinking
import Foundation
// npr-bench: throughput of the stateful cores on synthetic national data, measured on the services' own
// path: batches of 2 000 JSON messages decoded on every core, applied in order, state rows and outputs
// encoded on every core. Prints messages/s and the process's peak resident memory (VmHWM).
//   npr-bench all       [--patients N]   episode-linker, then indicator-calculator on its changelogs
//   npr-bench mortality [--patients N]   mortality-linker: five national years, a year of deaths, population
//   npr-bench kafka     [--messages N]   the Kafka binding vs kcat: produce and consume 1 KB JSON messages
//   npr-bench national  [--years 6] [--scale 1] [--out DIR] [--no-reference]   generate the national history as
//                       NDJSON and its from-scratch values (scripts/national_bench.py streams it through the stack)
// Build with -c release (`make bench`).
import IndicatorCalculation
import MortalityLinking
import NPRCore
import StreamCodec
import SyntheticData

func peakMemoryMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return kb / 1024
}

func report(_ name: String, _ count: Int, _ elapsed: Duration) {
    let seconds = elapsed.seconds
    print(
        String(format: "%-22@ %9d msgs  %7.2f s  %10.0f msg/s  peak RSS %7.1f MiB", name as NSString, count, seconds, Double(count) / seconds, peakMemoryMiB()))
}

/// Processes `inputs` in service-sized batches: decode on all cores while `apply` takes them in order, then `finish`
/// encodes the batch's state rows and outputs as the service does and hands the outputs to `emit` (a
/// service sends them and lets them go; the bench keeps only what a next stage reads).
func run<Input: Sendable>(
    _ inputs: [[UInt8]], decode: @escaping @Sendable ([UInt8]) throws -> Input, apply: (Input) -> Void,
    finish: () throws -> [[UInt8]], emit: ([[UInt8]]) -> Void
) throws {
    for start in stride(from: 0, to: inputs.count, by: 2000) {
        try BatchCodec.forEach(Array(inputs[start..<min(start + 2000, inputs.count)]), decode) { apply($0) }
        emit(try finish())
    }
}

/// Encodes rows on all cores in their wire form, as the services do before their store commit (nil: a deleted row).
func encodeRows<T: Sendable, R: JSONWireEncodable & Encodable & Sendable>(_ rows: [T], _ value: @escaping @Sendable (T) -> R?) throws {
    _ = try BatchCodec.map(rows) { try value($0).map { try JSONCodec.encode($0) } }
}

/// ActivityEvents as intake publishes them (the person id stands in for the pseudonym; nothing is
/// printed or stored).
func activityEvents(_ activities: [ActivityMessage]) -> [[UInt8]] {
    activities.map { m in
        let birth = m.patient.personId.flatMap { try? PersonId.birthDate(of: $0).get() } ?? m.patient.birthDate ?? LocalDate(year: 1980, month: 1, day: 1)!
        let valid = m.patient.personId.map(PersonId.isValid) ?? false
        return try! JSONCodec.encode(
            ActivityEvent(m.status, revision: m.revision, episode: Episode(m, pseudonym: valid ? m.patient.personId : nil, birthDate: birth)))
    }
}

func populationEvents(_ counts: [PopulationCount]) -> [[UInt8]] {
    counts.map { p in
        try! JSONCodec.encode(
            PopulationEvent(
                year: p.year, municipality: MunicipalityRegister.resolve(p.municipality).single2024 ?? p.municipality,
                sex: p.sex, age: p.age, count: p.count))
    }
}

let asOf = LocalDate(year: 2024, month: 12, day: 31)!

func nationalYear(patients: Int?) -> SyntheticConfig {
    var config = SyntheticConfig.nationalYear(year: 2024)
    if let patients { config.patients = patients }
    return config
}

/// Five national years of episodes (own seeds, year-prefixed episode ids), then population and deaths.
func benchMortality(_ config: SyntheticConfig) throws {
    var inputs: [[UInt8]] = []
    for year in 2020...2024 {
        var c = config
        c.year = year
        c.seed = config.seed &+ UInt64(year)
        var data = SyntheticGenerator.generate(c)
        for i in data.activities.indices { data.activities[i].episodeId = "\(year)-" + data.activities[i].episodeId }
        inputs += activityEvents(data.activities)
        if year == 2024 {
            inputs += populationEvents(data.population)
            inputs += data.deaths.map { d in
                try! JSONCodec.encode(
                    DeathEvent(
                        status: d.status, pseudonym: d.personId, deathDate: d.deathDate, sex: d.sex,
                        birthDate: try! PersonId.birthDate(of: d.personId).get(), municipality: d.municipality))
            }
        }
    }
    print("synthetic: \(inputs.count) messages (five years of activity, population, deaths), \(config.patients) patients a year")
    enum Input: Sendable { case activity(ActivityEvent), death(DeathEvent), population(PopulationEvent) }
    var engine = MortalityEngine(asOf: asOf)
    let t0 = ContinuousClock.now
    var cellUpdates = 0
    try run(
        inputs,
        decode: { bytes -> Input in
            // The service knows the topic; here the shape tells.
            if bytes.starts(with: Array(#"{"age""#.utf8)) { return .population(try JSONCodec.decode(PopulationEvent.self, from: bytes)) }
            if let e = try? JSONCodec.decode(ActivityEvent.self, from: bytes) { return .activity(e) }
            return .death(try JSONCodec.decode(DeathEvent.self, from: bytes))
        },
        apply: { input in
            switch input {
            case .activity(let e): engine.apply(e)
            case .death(let d): engine.apply(death: d)
            case .population(let p): engine.apply(population: p)
            }
        },
        finish: {
            let changes = engine.takeStateChanges()
            try encodeRows(changes.slots) { $0.slot }
            try encodeRows(changes.heads) { $0.head }
            return try BatchCodec.map(engine.takeChangedCells()) { try JSONCodec.encode($0) }
        }, emit: { cellUpdates += $0.count })
    report("mortality-linker", inputs.count, ContinuousClock.now - t0)
    print("cell updates: \(cellUpdates)")
}

/// The episode-linker on a synthetic national year, then (`withCalculator`) the indicator-calculator on its changelogs.
func benchLinker(_ config: SyntheticConfig, withCalculator: Bool) throws {
    let dataset = SyntheticGenerator.generate(config)
    let inputs = activityEvents(dataset.activities)
    print("synthetic year: \(inputs.count) activity messages, \(config.patients) patients, \(dataset.units.count) units")

    var linker = LinkerEngine()
    for u in dataset.units { _ = linker.apply(unit: u) }
    var pending: [StayChangelog] = []
    let t0 = ContinuousClock.now
    var changelogs: [[UInt8]] = []
    try run(
        inputs, decode: { try JSONCodec.decode(ActivityEvent.self, from: $0) },
        apply: { event in
            if let c = linker.apply(event) { pending.append(c) }
        },
        finish: {
            defer { pending = [] }
            let changes = linker.takeStateChanges()
            try encodeRows(changes.slots) { $0.slot }
            try encodeRows(changes.heads) { $0.head }
            return try BatchCodec.map(pending) { try JSONCodec.encode($0) }
        }, emit: { changelogs += $0 })
    report("episode-linker", inputs.count, ContinuousClock.now - t0)

    if withCalculator {
        var calculator = CalculatorEngine(asOf: asOf)
        for u in dataset.units { calculator.apply(unit: u) }
        let t1 = ContinuousClock.now
        var cellUpdates = 0
        try run(
            changelogs, decode: { try JSONCodec.decode(StayChangelog.self, from: $0) }, apply: { calculator.apply($0) },
            finish: {
                let changes = calculator.takeStateChanges()
                try encodeRows(changes.episodes) { $0.content }
                try encodeRows(changes.heads) { $0.head }
                return try BatchCodec.map(calculator.takeChangedCells()) { try JSONCodec.encode($0) }
            }, emit: { cellUpdates += $0.count })
        report("indicator-calculator", changelogs.count, ContinuousClock.now - t1)
        print("cell updates: \(cellUpdates)")
    }
}

@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "npr-bench",
        abstract: "Throughput of the stateful cores, the Kafka binding, and the national history for the end-to-end benchmark.",
        subcommands: [All.self, Linker.self, Mortality.self, KafkaThroughput.self, NationalHistory.self], defaultSubcommand: All.self)

    struct All: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "episode-linker, then indicator-calculator on its changelogs.")
        @Option(help: "Patients in the synthetic year (default: national volume).") var patients: Int?
        func run() throws { try benchLinker(nationalYear(patients: patients), withCalculator: true) }
    }
    struct Linker: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "episode-linker alone.")
        @Option(help: "Patients in the synthetic year (default: national volume).") var patients: Int?
        func run() throws { try benchLinker(nationalYear(patients: patients), withCalculator: false) }
    }
    struct Mortality: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "mortality-linker: five national years, a year of deaths, population.")
        @Option(help: "Patients a year (default: national volume).") var patients: Int?
        func run() throws { try benchMortality(nationalYear(patients: patients)) }
    }
    struct KafkaThroughput: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "kafka", abstract: "The Kafka binding vs kcat: produce and consume 1 KB JSON messages.")
        @Option(help: "Messages to produce and consume.") var messages = 200_000
        func run() throws {
            let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            try KafkaBench.run(count: messages, binDir: binDir)
        }
    }
    struct NationalHistory: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "national",
            abstract: "Generate the national history as NDJSON and its from-scratch values (scripts/national_bench.py streams it through the stack).")
        @Option(help: "Years of history.") var years = SyntheticHistory().years
        @Option(help: "The last year.") var lastYear = SyntheticHistory().lastYear
        @Option(help: "Volume relative to national.") var scale = SyntheticHistory().scale
        @Option(help: "Share of messages sent twice.") var duplicates = SyntheticHistory().duplicates
        @Option(help: "Arrival shuffle window (messages).") var window = SyntheticHistory().window
        @Option(help: "Random seed.") var seed = SyntheticHistory().seed
        @Option(help: "Output directory.") var out = ".run-bench/national"
        @Flag(help: "Skip the from-scratch reference values.") var noReference = false
        func run() throws {
            var h = SyntheticHistory()
            h.years = years
            h.lastYear = lastYear
            h.scale = scale
            h.duplicates = duplicates
            h.window = window
            h.seed = seed
            try National.generate(h, out: out, reference: !noReference)
        }
    }
}
