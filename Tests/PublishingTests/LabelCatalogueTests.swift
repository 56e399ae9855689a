import Foundation
import IndicatorCalculation
import NPRCore
import Testing

@testable import MortalityLinking
@testable import Publishing

/// The catalogue labels everything that can be published, in both languages.
@Suite struct LabelCatalogueTests {
    let labels = LabelCatalogue.shared

    /// Every measure the calculator and the mortality-linker can publish, with its unit.
    static let publishable: [(indicator: Indicator, measure: String, formula: ValueFormula, scale: Double?)] =
        MeasureCatalogue.shapes.flatMap { indicator, measures in measures.map { (indicator, $0.key, $0.value.formula, $0.value.scale) } }
        + MortalityMeasure.all.map { (.overdodelighet, $0.name, $0.formula, $0.scale) }

    @Test func everyPublishableMeasureHasALabelAndAUnitInBothLanguages() {
        #expect(Self.publishable.count > 400)
        for m in Self.publishable {
            for language in Language.allCases {
                let label = labels.measure(indicator: m.indicator.rawValue, m.measure, language)
                #expect(label != m.measure && !label.contains("{") && !label.contains("}"), "\(m.indicator) \(m.measure) (\(language))")
            }
            let unit = LabelCatalogue.unitKey(formula: m.formula, scale: m.scale)
            #expect(labels.units[unit] != nil, "unit \(unit) of \(m.measure)")
        }
        // Measure labels tell measures apart within an indicator.
        for language in Language.allCases {
            for indicator in Indicator.allCases {
                let names = Self.publishable.filter { $0.indicator == indicator }.map { labels.measure(indicator: indicator.rawValue, $0.measure, language) }
                #expect(Set(names).count == names.count, "\(indicator) labels are distinct (\(language))")
            }
        }
    }

    @Test func templatesBindPartsWithDashes() {
        #expect(
            labels.measure(indicator: "tsb-nokkeltall", "diagnose-f16-f18-oppholdsdogn", .nb)
                == "Oppholdsdøgn, hovedtilstand F16–F18 hallusinogener, tobakk, løsemidler")
        #expect(labels.measure(indicator: "tsb-poliklinikk", "konsultasjoner-kontakter-per-pasient", .nb) == "Alle konsultasjoner: kontakter per pasient")
        #expect(
            labels.measure(indicator: "tsb-poliklinikk", "telefon-pasienter-per-10000-annen-z", .en)
                == "Telephone consultations: patients per 10 000 inhabitants aged 18 and over, patient group other Z codes")
        #expect(labels.measure(indicator: "tsb-nokkeltall", "kontakter-tele-video", .nb) == "Polikliniske kontakter: telefon og video")
        // Unknown ids are shown as they are.
        #expect(labels.measure(indicator: "tsb-nokkeltall", "diagnose-x99-pasienter", .nb) == "diagnose-x99-pasienter")
        #expect(labels.measure(indicator: "tsb-ukjent", "hovedmaltall", .nb) == "hovedmaltall")
    }

    @Test func everyCodeOfEveryDimensionIsLabelled() {
        for language in Language.allCases {
            for i in Indicator.allCases {
                #expect(labels.indicator(i.rawValue, language) != i.rawValue)
                #expect(labels.note(i.rawValue, language)?.isEmpty == false)
            }
            for l in Level.allCases { #expect(labels.level(l.rawValue, language) != l.rawValue) }
            for s in Sex.allCases { #expect(labels.sex(s.rawValue, language) != s.rawValue) }
            for c in JSONStat.contentIds { #expect(labels.content(c, language) != c) }
            for k in Provenance.Kind.allCases { #expect(labels.causes[k.rawValue]?[language.rawValue]?.isEmpty == false, "cause \(k)") }
            for s in [PublishedStatus.ok, .suppressedPrimary, .suppressedSecondary, .undefined] {
                #expect(labels.status(s, language) != s.rawValue)
            }
        }
        // SSB's symbols: ':' hidden for confidentiality, '.' not applicable; primary and secondary told apart.
        #expect(labels.statusSymbol(.suppressedPrimary) == ":" && labels.statusSymbol(.undefined) == ".")
        #expect(labels.statusSymbol(.suppressedSecondary) != labels.statusSymbol(.suppressedPrimary))
        #expect(labels.period("2024-T1", .nb) == "1. tertial 2024" && labels.period("2024", .en) == "2024")
        #expect(labels.region(unit: "NO", unitName: "Norge", .nb) == "Hele landet")
        #expect(labels.region(unit: "vest", unitName: "Helse Vest", .en) == "Helse Vest")
    }

    /// Every text of the catalogue has both languages.
    @Test func everyTextHasBothLanguages() throws {
        let json = try #require(try JSONSerialization.jsonObject(with: LabelCatalogue.json) as? [String: Any])
        var texts = 0
        func visit(_ node: Any, _ path: String) {
            guard let object = node as? [String: Any] else { return }
            if object["nb"] is String || object["en"] is String {
                texts += 1
                #expect(object["nb"] is String && object["en"] is String, "\(path) has nb and en")
                return
            }
            for (key, child) in object { visit(child, path + "/" + key) }
        }
        visit(json, "")
        #expect(texts > 80)
    }

    @Test(arguments: [(String?("en"), Language.en), ("en-GB", .en), ("EN_us", .en), ("nb", .nb), ("nb-NO", .nb), ("no", .nb), ("fr", .nb), (nil, .nb)])
    func languageFromQuery(query: String?, expected: Language) {
        #expect(Language(query: query) == expected)
    }
}
