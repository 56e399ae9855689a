import NPRCore

/// A realistic synthetic national TSB dataset as wire messages, for `make run`, benchmarks and
/// integration tests. Pure and deterministic: the same configuration gives the same messages.
///
/// What it contains (see `SyntheticConfig` for the sizes):
/// - the unit register of `units` (fixed, independent of the seed);
/// - activities of the statistics year at national scale (NPR 2023: 34 000 patients, 28 % of them
///   inpatients, ≈ 1.5 stays each, LAR dispensing 15 % of outpatient contacts), and a sparse history
///   in the `cohortYears` before it (a short course per treated year), which is what the mortality
///   cohort needs; the history years' activity figures are therefore not national-scale;
/// - the versions hospitals send: a long stay is often first reported open and closed by a correction,
///   then corrections (`M`, revision + 1) and annulments (`C`) at the configured rates, always after
///   the original in arrival order;
/// - deaths (`DeathGenerator`) and the population on 1 January of the statistics year
///   (`SyntheticPopulation`).
public enum SyntheticGenerator {
    /// The synthetic unit register (59 units in all four RHFs, 9 of them detoxification units).
    public static var units: [Unit] { UnitRegister.units }

    public static func generate(_ c: SyntheticConfig) -> SyntheticDataset {
        var registry = PersonRegistry(c)
        var activities: [ActivityMessage] = []
        activities.reserveCapacity(Int(Double(c.patients) * c.episodesPerPatient * 1.4))
        stream(c, units: units, people: registry.people) { activities.append($0) }
        let deaths = DeathGenerator.records(c, registry: &registry)
        return SyntheticDataset(units: units, activities: activities, deaths: deaths, population: population(year: c.year))
    }

    /// Streaming variant for big sets: calls `emit` per activity in arrival order without building the
    /// messages up front (only compact drafts are held to sort them into arrival order).
    /// `units` is the register to report against, normally `units`; for another register the
    /// generator infers each unit's role from `detox` and its name ("poliklinikk", "døgn").
    public static func activities(_ c: SyntheticConfig, units: [Unit], emit: (ActivityMessage) -> Void) {
        stream(c, units: units, people: PersonRegistry(c).people, emit: emit)
    }

    /// The death records of `generate(c)`, in arrival order, without generating the activities.
    public static func deaths(_ c: SyntheticConfig) -> [DeathRecord] {
        var registry = PersonRegistry(c)
        return DeathGenerator.records(c, registry: &registry)
    }

    /// Every 2024 municipality × sex 1/2 × age 0–100 on 1 January of `year` (≈ 5.55 million in all).
    public static func population(year: Int) -> [PopulationCount] { SyntheticPopulation.counts(year: year) }

    private static func stream(_ c: SyntheticConfig, units: [Unit], people: [Person], emit: (ActivityMessage) -> Void) {
        let planner = EpisodePlanner(config: c, catalogue: UnitCatalogue(units: units))
        var deliveries: [Delivery] = []
        deliveries.reserveCapacity(Int(Double(c.patients) * c.episodesPerPatient * 1.4))
        var serial: Int32 = 1
        for (i, person) in people.enumerated() where person.isPatient {
            deliveries.append(contentsOf: planner.deliveries(for: person, index: i, nextSerial: &serial))
        }
        deliveries.sort(by: Delivery.arrivesBefore)
        let builder = MessageBuilder(people: people, units: units)
        for delivery in deliveries { emit(builder.message(delivery)) }
    }
}
