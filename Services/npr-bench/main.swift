// npr-bench: throughput of the stateful cores on a synthetic national year, JSON decoding included.
//   npr-bench linker [--patients N]     episode-linker core: ActivityEvent JSON → changelogs
//   npr-bench all   [--patients N]      linker, then indicator-calculator on the linker's changelogs
//   npr-bench kafka [--messages N]      the binding vs kcat: produce and consume 1 KB JSON messages
// Prints messages/s and the process's peak resident memory (VmHWM). Build with -c release (make bench).
import ActivityIndicators
import Foundation
import NPRCore
import StayLinking
import SyntheticData

func peakMemoryMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kb / 1024
}

func report(_ name: String, _ count: Int, _ elapsed: Duration) {
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print(String(format: "%-22@ %9d msgs  %7.2f s  %10.0f msg/s  peak RSS %7.1f MiB", name as NSString, count, seconds, Double(count) / seconds, peakMemoryMiB()))
}

let args = Array(CommandLine.arguments.dropFirst())
let mode = args.first ?? "all"
if mode == "kafka" {
    let count = args.firstIndex(of: "--messages").flatMap { Int(args[$0 + 1]) } ?? 200_000
    let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    try KafkaBench.run(count: count, binDir: binDir)
    exit(0)
}
let patients = args.firstIndex(of: "--patients").flatMap { Int(args[$0 + 1]) } ?? SyntheticConfig.nationalYear(year: 2024).patients
var config = SyntheticConfig.nationalYear(year: 2024)
config.patients = patients

// Input as the linker receives it: JSON ActivityEvents (the person id stands in for the pseudonym here;
// nothing is printed or stored).
let dataset = SyntheticGenerator.generate(config)
let encoder = JSONEncoder()
let inputs: [[UInt8]] = dataset.activities.map { m in
    let birth = m.patient.personId.flatMap { try? PersonId.birthDate(of: $0).get() } ?? m.patient.birthDate ?? LocalDate(year: 1980, month: 1, day: 1)!
    let event = ActivityEvent(m.status, revision: m.revision, episode: Episode(m, pseudonym: m.patient.personId, birthDate: birth))
    return Array(try! encoder.encode(event))
}
print("synthetic year: \(dataset.activities.count) activity messages, \(patients) patients, \(dataset.units.count) units")

var linker = LinkerEngine()
for u in dataset.units { _ = linker.apply(unit: u) }
var changelogs: [[UInt8]] = []
changelogs.reserveCapacity(inputs.count)
let decoder = JSONDecoder()
let t0 = ContinuousClock.now
for bytes in inputs {
    let event = try decoder.decode(ActivityEvent.self, from: Data(bytes))
    if let c = linker.apply(event) { changelogs.append(Array(try encoder.encode(c))) }
}
report("episode-linker", inputs.count, ContinuousClock.now - t0)

if mode == "all" {
    var calculator = CalculatorEngine(asOf: LocalDate(year: 2024, month: 12, day: 31)!)
    for u in dataset.units { calculator.apply(unit: u) }
    let t1 = ContinuousClock.now
    for bytes in changelogs { calculator.apply(try decoder.decode(StayChangelog.self, from: Data(bytes))) }
    let cells = calculator.takeChangedCells()
    report("indicator-calculator", changelogs.count, ContinuousClock.now - t1)
    print("cells: \(cells.count)")
}
