import EpisodeLinking
import NPRCore
import Testing

@Suite("LinkerEngine revision semantics and changelogs")
struct LinkerEngineTests {
    let v1 = episode("a", "2024-01-01", "2024-01-05", endType: 1)
    let v2 = episode("a", "2024-01-01", "2024-01-09", endType: 3)
    let v3 = episode("a", "2024-01-02", "2024-01-04", endType: 2)

    /// The visible content of episode `a` of patient 1 in the engine.
    func visibleA(_ engine: LinkerEngine) -> Episode? { engine.patient(patient1)?.slots[key("a")]?.episode }

    @Test func higherRevisionWinsWhateverTheOrder() {
        var inOrder = LinkerEngine()
        #expect(inOrder.apply(version(v1, revision: 1)) != nil)
        #expect(inOrder.apply(version(v2, revision: 2)) != nil)
        #expect(visibleA(inOrder) == v2)

        var reversed = LinkerEngine()
        #expect(reversed.apply(version(v2, revision: 2)) != nil)
        _ = reversed.takeDirty()
        #expect(reversed.apply(version(v1, revision: 1)) == nil)
        #expect(visibleA(reversed) == v2)
        #expect(reversed.takeDirty().patients.isEmpty)
        #expect(reversed.patient(patient1)?.stays.map(\.end) == [at("2024-01-09"), at("2024-01-09")])
    }

    @Test func annulmentRemovesEveryVersionUpToItsRevision() {
        var engine = LinkerEngine()
        _ = engine.apply(version(v1, revision: 1))
        let removal = engine.apply(annulment(v2, revision: 2))
        #expect(removal?.episodes == [EpisodeAssignment(key: key("a"), episode: nil)])
        #expect(removal?.stays == [])
        #expect(removal?.retracted == ["institution:\(instA)|a", "treatment:\(instA)|a"])
        #expect(removal?.asserted == [])
        #expect(visibleA(engine) == nil)

        // An equal revision arriving after the annulment stays hidden.
        #expect(engine.apply(version(v2, revision: 2)) == nil)
        #expect(visibleA(engine) == nil)

        // Annulment first, lower version later: nothing ever becomes visible, but the annulment is kept.
        var annulledFirst = LinkerEngine()
        #expect(annulledFirst.apply(annulment(v2, revision: 2)) == nil)
        #expect(annulledFirst.takeDirty().patients[patient1]?.slots[key("a")] == EpisodeSlot(revision: 2, episode: nil))
        #expect(annulledFirst.apply(version(v1, revision: 1)) == nil)
        #expect(annulledFirst.apply(version(v2, revision: 2)) == nil)
        #expect(annulledFirst.patient(patient1)?.stays == [])

        // Version and annulment at the same revision in either order: removed.
        var sameRevision = LinkerEngine()
        _ = sameRevision.apply(version(v2, revision: 2))
        #expect(sameRevision.apply(annulment(v2, revision: 2)) != nil)
        #expect(visibleA(sameRevision) == nil)
    }

    @Test func higherRevisionAfterAnnulmentRevives() {
        var engine = LinkerEngine()
        _ = engine.apply(version(v1, revision: 1))
        _ = engine.apply(annulment(v1, revision: 2))
        let revived = engine.apply(version(v3, revision: 3))
        #expect(revived?.episodes == [EpisodeAssignment(key: key("a"), episode: v3)])
        #expect(revived?.stays.map(\.end) == [at("2024-01-04"), at("2024-01-04")])
        #expect(revived?.asserted == ["institution:\(instA)|a", "treatment:\(instA)|a"])
        #expect(revived?.retracted == [])
        #expect(revived?.sequence == 3)
    }

    @Test func foreignPlaceholderHidesLikeAnAnnulment() {
        var engine = LinkerEngine()
        _ = engine.apply(version(v1, revision: 1))
        let hidden = engine.apply(foreign(v1, revision: 2))
        #expect(hidden?.episodes == [EpisodeAssignment(key: key("a"), episode: nil)])
        #expect(engine.patient(patient1)?.stays == [])
        #expect(engine.apply(version(v2, revision: 2)) == nil)
        #expect(engine.apply(version(v3, revision: 3))?.episodes == [EpisodeAssignment(key: key("a"), episode: v3)])
    }

    @Test func exactResendIsANoOp() {
        var engine = LinkerEngine()
        let first = engine.apply(version(v1, revision: 1))
        #expect(first?.sequence == 1)
        _ = engine.takeDirty()
        #expect(engine.apply(version(v1, revision: 1)) == nil)
        #expect(engine.apply(annulment(v1, revision: 0)) == nil)
        #expect(engine.takeDirty().patients.isEmpty)
        #expect(engine.patient(patient1)?.sequence == 1)
    }

    @Test func changelogNamesChangedStaysAndEpisodes() throws {
        var engine = LinkerEngine()
        let firstResult = engine.apply(version(v1, revision: 1))
        let first = try #require(firstResult)
        #expect(first.patientKey == patient1)
        #expect(first.sequence == 1)
        #expect(first.episodes == [EpisodeAssignment(key: key("a"), episode: v1)])
        #expect(first.stays == StayLinker.stays(patientKey: patient1, episodes: [v1], unit: { _ in nil }))
        #expect(first.retracted == [])
        #expect(first.asserted == ["institution:\(instA)|a", "treatment:\(instA)|a"])

        // A separate stay in another institution: only its ids are asserted.
        let other = episode("b", inst: instB, "2024-03-01", "2024-03-02")
        let secondResult = engine.apply(version(other, revision: 1))
        let second = try #require(secondResult)
        #expect(second.sequence == 2)
        #expect(second.stays.count == 4)
        #expect(second.retracted == [])
        #expect(second.asserted == ["institution:\(instB)|b", "treatment:\(instB)|b"])

        // Extending `a` to the day before `b`: the treatment stays merge (b's id goes), institution stays change.
        let extended = episode("a", "2024-01-01", "2024-02-29", endType: 1)
        let thirdResult = engine.apply(version(extended, revision: 2))
        let third = try #require(thirdResult)
        #expect(third.sequence == 3)
        #expect(third.stays.map(\.id) == ["institution:\(instA)|a", "treatment:\(instA)|a", "institution:\(instB)|b"])
        #expect(third.retracted == ["institution:\(instA)|a", "treatment:\(instA)|a", "treatment:\(instB)|b"])
        #expect(third.asserted == ["institution:\(instA)|a", "treatment:\(instA)|a"])
    }

    @Test func outpatientTSBEpisodeIsAssignedWithoutStayChanges() throws {
        var engine = LinkerEngine()
        _ = engine.apply(version(v1, revision: 1))
        let contact = episode("o", "2024-02-01T09:00", "2024-02-01T10:00", careLevel: 3)
        let logResult = engine.apply(version(contact, revision: 1))
        let log = try #require(logResult)
        #expect(log.episodes == [EpisodeAssignment(key: key("o"), episode: contact)])
        #expect(log.retracted == [] && log.asserted == [])
        #expect(log.stays.count == 2)
    }

    @Test func nonTSBEpisodesAreNotThereDownstream() throws {
        var engine = LinkerEngine()
        let somatic = episode("s", "2024-01-01", "2024-01-05", sector: "SOM")
        #expect(engine.apply(version(somatic, revision: 1)) == nil)
        // Stored all the same, for revision resolution.
        #expect(engine.takeDirty().patients[patient1]?.slots[key("s")]?.episode == somatic)
        let corrected = episode("s", "2024-01-01", "2024-01-07", sector: "SOM")
        #expect(engine.apply(version(corrected, revision: 2)) == nil)
        // Corrected into TSB: appears; corrected out again: assigned nil and its stays go.
        let nowTSB = episode("s", "2024-01-01", "2024-01-07")
        let appears = engine.apply(version(nowTSB, revision: 3))
        #expect(appears?.episodes == [EpisodeAssignment(key: key("s"), episode: nowTSB)])
        let outResult = engine.apply(version(corrected, revision: 4))
        let out = try #require(outResult)
        #expect(out.episodes == [EpisodeAssignment(key: key("s"), episode: nil)])
        #expect(out.stays == [])
    }

    @Test func anonymousEpisodesStayInTheirOwnBucket() {
        var engine = LinkerEngine()
        let named = episode("a", "2024-01-01", "2024-01-05")
        let anon = episode("b", "2024-01-06", "2024-01-08", pseudonym: nil)
        _ = engine.apply(version(named, revision: 1))
        let log = engine.apply(version(anon, revision: 1))
        #expect(log?.patientKey == PatientKey(rawValue: "anon:\(instA)|b"))
        #expect(log?.stays.map(\.episodes) == [[key("b")], [key("b")]])
        #expect(engine.patient(patient1)?.stays.map(\.episodes) == [[key("a")], [key("a")]])
    }

    @Test func detoxFlipRelinksOnlyPatientsAtThatUnit() throws {
        var engine = LinkerEngine()
        #expect(engine.apply(unit: unit("U1", detox: false)) == [])
        #expect(engine.apply(unit: unit("UD", detox: false)) == [])
        let a = episode("a", unit: "U1", "2024-01-01", "2024-01-05")
        let d = episode("d", unit: "UD", "2024-01-06", "2024-01-10")
        let c = episode("c", unit: "U1", "2024-01-11", "2024-01-15")
        let elsewhere = episode("x", unit: "U1", "2024-01-01", "2024-01-05", pseudonym: "p2")
        let outpatientAtUD = episode("o", unit: "UD", "2024-01-01", "2024-01-01", careLevel: 3, pseudonym: "p3")
        for e in [a, d, c, elsewhere, outpatientAtUD] { _ = engine.apply(version(e, revision: 1)) }
        #expect(engine.patient(patient1)?.stays.filter { $0.kind == .treatment }.count == 1)
        _ = engine.takeDirty()

        let logs = engine.apply(unit: unit("UD", detox: true))
        #expect(logs.map(\.patientKey) == [patient1])
        let log = try #require(logs.first)
        #expect(log.episodes == [])
        #expect(log.sequence == 4)
        #expect(log.retracted == ["treatment:\(instA)|a"])
        #expect(log.asserted == ["treatment:\(instA)|a", "treatment:\(instA)|c"])
        #expect(log.stays.filter { $0.kind == .institution }.map(\.episodes) == [[key("a"), key("d"), key("c")]])
        let dirty = engine.takeDirty()
        #expect(Set(dirty.patients.keys) == [patient1])
        #expect(dirty.units.map(\.unitId) == ["UD"])

        // Renaming the unit does not touch linking but is persisted.
        var renamed = unit("UD", detox: true)
        renamed.name = "Avrusning"
        #expect(engine.apply(unit: renamed) == [])
        #expect(engine.takeDirty().units == [renamed])
        #expect(engine.apply(unit: renamed) == [])
        #expect(engine.takeDirty().units == [])
    }

    @Test func unitIndexFollowsCorrections() throws {
        var engine = LinkerEngine()
        let a = episode("a", unit: "U1", "2024-01-01", "2024-01-05")
        let b = episode("b", unit: "U1", "2024-01-06", "2024-01-08")
        _ = engine.apply(version(a, revision: 1))
        _ = engine.apply(version(b, revision: 1))
        // `b` moves to U2: U1 still has `a`, so a U1 flip still relinks the patient.
        let moved = episode("b", unit: "U2", "2024-01-06", "2024-01-08")
        _ = engine.apply(version(moved, revision: 2))
        #expect(engine.apply(unit: unit("U1", detox: true)).count == 1)
        // `a` is annulled: nothing of the patient remains at U1.
        _ = engine.apply(annulment(a, revision: 2))
        #expect(engine.apply(unit: unit("U1", detox: false)) == [])
        let log = try #require(engine.apply(unit: unit("U2", detox: true)).first)
        #expect(log.stays.map(\.kind) == [.institution])
        // Registering an unknown unit as not detox changes nothing.
        #expect(engine.apply(unit: unit("U3", detox: false)) == [])
    }
}
