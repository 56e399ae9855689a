import NPRCore

/// What to generate. `patients` and `episodesPerPatient` describe the statistics year `year`; the
/// `cohortYears` before it carry only the sparse history the mortality cohort needs (see README of
/// `SyntheticGenerator`).
public struct SyntheticConfig: Sendable, Hashable {
    public var seed: UInt64
    /// The statistics year: full activity, population counts and all deaths.
    public var year: Int
    /// Persons with activity in `year` (about; deaths and age limits trim a few).
    public var patients: Int
    /// Mean episodes per patient in `year` (all care levels).
    public var episodesPerPatient: Double
    /// Share of episodes that later get a correction (status `M`, revision + 1).
    public var correctionRate: Double
    /// Share of episodes that later get annulled (status `C`).
    public var annulmentRate: Double
    /// Years of history before `year` (the mortality cohort looks back five years).
    public var cohortYears: Int
    /// Share of `year`'s patients with inpatient treatment (NPR 2023: 9 813 of 34 360 ≈ 28 %).
    public var inpatientPatientShare: Double
    /// Persons treated only in the history years, per history year, as a share of `patients`.
    public var historyOnlyPatientsPerYear: Double

    public init(
        seed: UInt64, year: Int, patients: Int, episodesPerPatient: Double, correctionRate: Double,
        annulmentRate: Double, cohortYears: Int, inpatientPatientShare: Double = 0.28,
        historyOnlyPatientsPerYear: Double = 0.2
    ) {
        self.seed = seed
        self.year = year
        self.patients = patients
        self.episodesPerPatient = episodesPerPatient
        self.correctionRate = correctionRate
        self.annulmentRate = annulmentRate
        self.cohortYears = cohortYears
        self.inpatientPatientShare = inpatientPatientShare
        self.historyOnlyPatientsPerYear = historyOnlyPatientsPerYear
    }

    /// A national year at the size NPR reports for TSB (2023: 34 360 patients, ≈ 584 000 episodes),
    /// with five years of cohort history.
    public static func nationalYear(year: Int) -> SyntheticConfig {
        SyntheticConfig(
            seed: 0x5EED_2024, year: year, patients: 34_000, episodesPerPatient: 18,
            correctionRate: 0.03, annulmentRate: 0.005, cohortYears: 5)
    }

    /// About 300 patients: fast enough for unit and integration tests, still with stays, corrections,
    /// annulments, open episodes and a mortality cohort. Half the patients have inpatient treatment
    /// (≈ 12 % of the episodes, against ≈ 4 % nationally) so the stay indicators have material.
    public static func small(year: Int, seed: UInt64) -> SyntheticConfig {
        SyntheticConfig(
            seed: seed, year: year, patients: 300, episodesPerPatient: 8,
            correctionRate: 0.05, annulmentRate: 0.02, cohortYears: 5, inpatientPatientShare: 0.5)
    }
}

/// A generated dataset, every list in arrival order.
public struct SyntheticDataset: Sendable, Hashable {
    public var units: [Unit]
    public var activities: [ActivityMessage]
    public var deaths: [DeathRecord]
    public var population: [PopulationCount]
    public init(units: [Unit], activities: [ActivityMessage], deaths: [DeathRecord], population: [PopulationCount]) {
        self.units = units
        self.activities = activities
        self.deaths = deaths
        self.population = population
    }
}
