import Testing
@testable import SPTEngine

@Suite struct BLASCoreTests {
    @Test func fallbackCoreIsReplacedByTheWidestTheCPURuns() {
        #expect(BLASCore.override(detected: "Prescott", userChoice: nil, avx2: true, avx512: true) == "SkylakeX")
        #expect(BLASCore.override(detected: "Prescott", userChoice: nil, avx2: true, avx512: false) == "Haswell")
        #expect(BLASCore.override(detected: "Core2", userChoice: nil, avx2: true, avx512: false) == "Haswell")
    }

    @Test func detectedVectorCoresAndOldCPUsAreKept() {
        for core in ["Haswell", "SkylakeX", "Zen", "SapphireRapids"] {
            #expect(BLASCore.override(detected: core, userChoice: nil, avx2: true, avx512: true) == nil)
        }
        #expect(BLASCore.override(detected: "Prescott", userChoice: nil, avx2: false, avx512: false) == nil)
    }

    @Test func aCoreTheUserChoseIsNeverOverridden() {
        #expect(BLASCore.override(detected: "Prescott", userChoice: "Prescott", avx2: true, avx512: true) == nil)
    }
}
