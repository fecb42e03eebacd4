import Testing
import SPTRuns

@Suite struct RunDirectoryTests {
    @Test func distinctNamesKeepUniqueRunIDs() {
        #expect(RunDirectory.distinctNames(["kmeans", "random"], paths: ["s/a.jsonl", "s/b.jsonl"]) == ["kmeans", "random"])
    }

    /// A renamed copy of a run beside the run itself (both headers say random-np10-s0): the
    /// parent directory does not tell them apart, the file names do.
    @Test func sameRunIDInOneDirectoryFallsBackToFileNames() {
        let names = RunDirectory.distinctNames(["random-np10-s0", "random-np10-s0", "kmeans-np10-s0"],
                                               paths: ["d/random-np10-s0.jsonl", "d/tune-random-lr0.1.jsonl", "d/kmeans-np10-s0.jsonl"])
        #expect(names == ["random-np10-s0", "tune-random-lr0.1", "kmeans-np10-s0"])
    }

    @Test func sameFileNameInTwoSessionsGetsTheSessionToo() {
        let names = RunDirectory.distinctNames(["kmeans", "kmeans", "random"],
                                               paths: ["runs/s1/kmeans.jsonl", "runs/s2/kmeans.jsonl", "runs/s2/random.jsonl"])
        #expect(names == ["s1/kmeans", "s2/kmeans", "random"])
        #expect(Set(RunDirectory.distinctNames(["x", "x"], paths: ["/a/s/x.jsonl", "/b/s/x.jsonl"])).count == 2)
    }

    @Test func followedLogsKeepTheirFirstNameAndNeverClash() {
        var taken: Set<String> = []
        for p in ["runs/s1/kmeans.jsonl", "runs/s2/kmeans.jsonl", "runs/s2/random.jsonl", "other/s2/kmeans.jsonl"] {
            let n = RunDirectory.distinctName(for: p, taken: taken)
            #expect(!taken.contains(n))
            taken.insert(n)
        }
        #expect(taken == ["kmeans", "s2/kmeans", "random", "other/s2/kmeans"])
    }
}
