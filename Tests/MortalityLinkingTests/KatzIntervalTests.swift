import MortalityLinking
import NPRCore
import Testing

/// The engine's cell parts, fed to the Katz interval, against values computed by hand and with scipy.
///
/// Scenario for 2023, all in Oslo, everyone aged 30: 600 male and 400 female cohort persons (episodes in
/// 2022), of whom 7 men and 3 women die in 2023; resident population aged 15–50 on 1 January 2023 is
/// 60 600 men and 40 400 women; 30 men and 20 women outside the cohort die in 2023. So
/// total: D1 = 10, N1 = 1000, D2 = 50, N2 = 101 000 − 1000 = 100 000;
/// men:   D1 = 7,  N1 = 600,  D2 = 30, N2 = 60 600 − 600 = 60 000;
/// women: D1 = 3,  N1 = 400,  D2 = 20, N2 = 40 400 − 400 = 40 000.
struct KatzIntervalTests {
    static let engine: MortalityEngine = {
        var engine = MortalityEngine(asOf: asOf)
        engine.apply(population: population(2023, sex: 1, count: 60_600))
        engine.apply(population: population(2023, sex: 2, count: 40_400))
        for i in 0..<1000 {
            let sex = i < 600 ? 1 : 2
            let person = "cohort-\(i)"
            engine.apply(version(episode(person, start: at("2022-03-01"), born: "1993-01-01", sex: sex)))
            let dies = (sex == 1 && i < 7) || (sex == 2 && i >= 600 && i < 603)
            if dies { engine.apply(death: death(person, "2023-06-01", sex: sex, born: "1993-01-01")) }
        }
        for i in 0..<50 {
            engine.apply(death: death("rest-\(i)", "2023-06-01", sex: i < 30 ? 1 : 2, born: "1993-01-01"))
        }
        return engine
    }()

    @Test func partsOfTheScenario() {
        #expect(Self.engine.parts(2023) == Parts(d1: 10, n1: 1000, d2: 50, n2: 100_000))
        #expect(Self.engine.parts(2023, .national, "NO", .male) == Parts(d1: 7, n1: 600, d2: 30, n2: 60_000))
        #expect(Self.engine.parts(2023, .national, "NO", .female) == Parts(d1: 3, n1: 400, d2: 20, n2: 40_000))
        // Everyone lives in Oslo: the RHF and the helsefellesskap equal the national figures.
        #expect(Self.engine.parts(2023, .rhf, "sor-ost") == Self.engine.parts(2023))
        #expect(Self.engine.parts(2023, .helsefellesskap, "Oslo", .male) == Self.engine.parts(2023, .national, "NO", .male))
    }

    /// By hand, total:
    ///   Rate1 = 10 / 1000 = 0.01; Rate2 = 50 / 100 000 = 0.0005; RR = 0.01 / 0.0005 = 20
    ///   var = 1/10 − 1/1000 + 1/50 − 1/100 000 = 0.1 − 0.001 + 0.02 − 0.00001 = 0.11899
    ///   se = √0.11899 ≈ 0.344949 (check: 0.344949² ≈ 0.118990)
    ///   z·se = 1.959964 × 0.344949 ≈ 0.676088; ln 20 ≈ 2.995732
    ///   lower = exp(2.995732 − 0.676088) = exp(2.319644) ≈ 10.1721
    ///   upper = exp(2.995732 + 0.676088) = exp(3.671820) ≈ 39.3234
    @Test func totalAgainstHandCalculation() throws {
        let p = try #require(Self.engine.parts(2023))
        let e = try #require(ExcessMortality.estimate(d1: p.d1, n1: p.n1, d2: p.d2, n2: p.n2))
        #expect(abs(e.ratio - 20) < 1e-9)
        #expect(abs(e.lower - 10.1721) < 1e-3)
        #expect(abs(e.upper - 39.3234) < 1e-3)
    }

    /// Second source, scipy 1.17 (its interval for a relative risk is the same Katz log method; it uses
    /// z = 1.959963984540054, a relative difference of 1e-8 from the spec's 1.959964):
    ///   python3 -c "from scipy.stats.contingency import relative_risk as rr
    ///   for a in [(10,1000,50,100000),(7,600,30,60000),(3,400,20,40000)]:
    ///     r=rr(*a); ci=r.confidence_interval(0.95); print(a, r.relative_risk, ci.low, ci.high)"
    /// printed
    ///   (10, 1000, 50, 100000) 20.0 10.172053678807956 39.323425989517126
    ///   (7, 600, 30, 60000) 23.333333333333332 10.289526954450245 52.91248537027942
    ///   (3, 400, 20, 40000) 15.0 4.47525306151066 50.27648647070012
    @Test(arguments: [
        (Sex.all, 20.0, 10.172053678807956, 39.323425989517126),
        (Sex.male, 23.333333333333332, 10.289526954450245, 52.91248537027942),
        (Sex.female, 15.0, 4.47525306151066, 50.27648647070012),
    ])
    func againstScipy(sex: Sex, ratio: Double, lower: Double, upper: Double) throws {
        let p = try #require(Self.engine.parts(2023, .national, "NO", sex))
        let e = try #require(ExcessMortality.estimate(d1: p.d1, n1: p.n1, d2: p.d2, n2: p.n2))
        #expect(abs(e.ratio / ratio - 1) < 1e-9)
        #expect(abs(e.lower / lower - 1) < 1e-6)
        #expect(abs(e.upper / upper - 1) < 1e-6)
    }

    /// The rate and count measures carry the same parts; Rate1 per 100 000 = 10 / 1000 · 100 000 = 1000.
    @Test func rateAndCountCells() throws {
        let rate = try #require(Self.engine.cell(mortalityKey("maltall-2", 2023)))
        #expect(rate.formula == .rate && rate.scale == 100_000)
        #expect(Double(rate.numerator) / Double(try #require(rate.denominator)) * rate.scale! == 1000)
        let menRate = try #require(Self.engine.cell(mortalityKey("maltall-6", 2023, .national, "NO", .male)))
        #expect(menRate.numerator == 7 && menRate.denominator == 600)
        let womenCount = try #require(Self.engine.cell(mortalityKey("maltall-9", 2023, .national, "NO", .female)))
        #expect(womenCount.formula == .count && womenCount.numerator == 3)
    }

    @Test func undefinedWhenAPartIsZero() {
        #expect(ExcessMortality.estimate(d1: 0, n1: 1000, d2: 50, n2: 100_000) == nil)
        #expect(ExcessMortality.estimate(d1: 10, n1: 1000, d2: 0, n2: 100_000) == nil)
    }
}
