import Foundation
import NPRCore
import Testing

@testable import Publishing

@Suite struct ValueTests {
    @Test func shareIsNumeratorOverDenominator() {
        let c = PublishedContent(cell: makeCell(numerator: 12, denominator: 80, patients: 70))
        #expect(c.status == .ok)
        #expect(c.numerator == 12 && c.denominator == 80)
        #expect(c.value == 0.15)
        #expect(c.ciLower == nil && c.ciUpper == nil)
    }

    @Test func countPublishesNoDenominator() {
        let c = PublishedContent(
            cell: makeCell(
                .nokkeltall, measure: "pasienter", formula: .count,
                numerator: 37, denominator: 99, patients: 37))
        #expect(c.status == .ok && c.value == 37 && c.numerator == 37 && c.denominator == nil)
    }

    @Test func rateAndRatio() {
        // 30 patients among 60 000 inhabitants, per 10 000: 5.
        let rate = PublishedContent(
            cell: makeCell(
                .poliklinikk, measure: "konsultasjoner-pasienter-per-10000", formula: .rate,
                numerator: 30, denominator: 60_000, scale: 10_000, patients: 30))
        #expect(rate.value == 5 && rate.status == .ok)
        let ratio = PublishedContent(
            cell: makeCell(
                .poliklinikk, measure: "konsultasjoner-per-pasient", formula: .ratio,
                numerator: 30, denominator: 12, patients: 12))
        #expect(ratio.value == 2.5)
    }

    @Test func emptyDenominatorIsUndefinedButKeepsItsParts() {
        let c = PublishedContent(cell: makeCell(.nokkeltall, measure: "lar-andel", numerator: 0, denominator: 0, patients: 9))
        #expect(c.status == .undefined && c.value == nil)
        #expect(c.numerator == 0 && c.denominator == 0)
        let rate = PublishedContent(cell: makeCell(.poliklinikk, formula: .rate, numerator: 6, denominator: 0, scale: 10_000, patients: 6))
        #expect(rate.status == .undefined && rate.value == nil)
    }

    @Test func fewerThanFivePatientsIsPrimarySuppressed() {
        for indicator in [Indicator.avbrudd, .nokkeltall, .poliklinikk] {
            let small = PublishedContent(cell: makeCell(indicator, numerator: 3, denominator: 40, patients: 4))
            #expect(small.status == .suppressedPrimary)
            #expect(small.numerator == nil && small.denominator == nil && small.value == nil)
            #expect(small.ciLower == nil && small.ciUpper == nil)
            #expect(PublishedContent(cell: makeCell(indicator, numerator: 3, denominator: 40, patients: 5)).status == .ok)
        }
        // The size (stays) does not decide primary suppression, the distinct patients do.
        #expect(PublishedContent(cell: makeCell(numerator: 3, denominator: 40, patients: 4, size: 40)).status == .suppressedPrimary)
    }

    @Test func primarySuppressionPrecedesUndefinedInEveryFamily() {
        let c = PublishedContent(cell: makeCell(.nokkeltall, measure: "lar-andel", numerator: 0, denominator: 0, patients: 2))
        #expect(c.status == .suppressedPrimary)
    }

    @Test func excessMortalityWithKatzInterval() {
        // Rate1 = 6/200, Rate2 = 40/100 000 → RR = 75; SE = sqrt(1/6 − 1/200 + 1/40 − 1/100 000).
        let c = PublishedContent(cell: mortalityCell(d1: 6, n1: 200, d2: 40, n2: 100_000))
        let se = (1.0 / 6 - 1.0 / 200 + 1.0 / 40 - 1.0 / 100_000).squareRoot()
        #expect(c.status == .ok)
        #expect(abs(c.value! - 75) < 1e-9)
        #expect(abs(c.ciLower! - 75 * exp(-1.959964 * se)) < 1e-9)
        #expect(abs(c.ciUpper! - 75 * exp(1.959964 * se)) < 1e-9)
        #expect(c.numerator == 6 && c.denominator == 200)
    }

    @Test func mortalityPrimarySuppression() {
        for d1 in 1...4 {
            #expect(PublishedContent(cell: mortalityCell(d1: d1, n1: 500)).status == .suppressedPrimary)
        }
        #expect(PublishedContent(cell: mortalityCell(d1: 5, n1: 500)).status == .ok)
        // N1 < 5 hides the cell even when D1 = 0, where the ratio would be undefined: precedence over undefined.
        let tinyCohort = PublishedContent(cell: mortalityCell(d1: 0, n1: 4))
        #expect(tinyCohort.status == .suppressedPrimary && tinyCohort.numerator == nil && tinyCohort.denominator == nil)
        #expect(PublishedContent(cell: mortalityCell(d1: 0, n1: 0, d2: 0, n2: 0)).status == .suppressedPrimary)
    }

    @Test func mortalityWithNoDeathsIsUndefinedRatioButZeroRateAndCount() {
        let ratio = PublishedContent(cell: mortalityCell(d1: 0, n1: 300))
        #expect(ratio.status == .undefined && ratio.value == nil && ratio.ciLower == nil)
        #expect(ratio.numerator == 0 && ratio.denominator == 300)
        let rate = PublishedContent(cell: mortalityCell(measure: "maltall-2", d1: 0, n1: 300))
        #expect(rate.status == .ok && rate.value == 0)
        let count = PublishedContent(cell: mortalityCell(measure: "maltall-3", d1: 0, n1: 300))
        #expect(count.status == .ok && count.value == 0)
        // Every mortality record shows D1 and N1, counts included.
        #expect(count.numerator == 0 && count.denominator == 300)
    }

    @Test func mortalityRatePerHundredThousand() {
        let rate = PublishedContent(cell: mortalityCell(measure: "maltall-2", d1: 8, n1: 4000))
        #expect(rate.value == 200)
    }

    @Test func mortalityWithoutRestPopulationDeathsIsUndefined() {
        let c = PublishedContent(cell: mortalityCell(d1: 9, n1: 300, d2: 0, n2: 5000))
        #expect(c.status == .undefined && c.value == nil)
        #expect(c.numerator == 9 && c.denominator == 300)
    }
}
