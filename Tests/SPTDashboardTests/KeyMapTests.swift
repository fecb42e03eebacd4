import Foundation
import Testing
import SPTDashboard
import TestSupport

@Suite struct KeyMapTests {
    @Test func theREADMEKeyTableIsTheKeyMap() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md")
        let lines = try String(contentsOf: readme, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex(of: "| keys | does | modes |"), "README has no key table")
        let rows = lines[(start + 2)...].prefix { $0.hasPrefix("|") }
        let expected = KeyBinding.markdownRows
        #expect(Array(rows) == expected, "README key table differs from the key map:\n\(lineDiff(expected.joined(separator: "\n"), rows.joined(separator: "\n")))")
    }

    @Test func everyKeyOfAModeHasOneMeaningAndTheFooterListsEachBinding() {
        for mode in [DashboardState.Mode.live, .replay, .watch] {
            let bindings = KeyBinding.table.filter { $0.modes.contains(mode) }
            let presses = bindings.flatMap { $0.presses + $0.reverse }
            #expect(Set(presses.map { "\($0)" }).count == presses.count, "\(mode): a key bound twice")
            let footer = KeyBinding.footer(mode: mode, strategies: 5)
            for b in bindings { #expect(footer.contains(b.footer), "\(mode) footer lacks \(b.footer)") }
        }
    }
}
