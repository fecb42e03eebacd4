import Foundation
import Testing
import TestSupport

/// The README and the pages it links stay true: its command table is the `spt` the build made,
/// every `docs/` page is one hop from it, and no relative link or anchor in the project's
/// Markdown is broken. (KeyMapTests keeps its key table equal to the key map.)
@Suite struct DocumentationTests {
    static func read(_ relative: String) throws -> String {
        try String(contentsOfFile: repositoryRoot + "/" + relative, encoding: .utf8)
    }

    /// The Markdown files a reader of the repository reaches.
    static func markdownFiles() throws -> [String] {
        let docs = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/docs").filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        return ["README.md", "ARCHITECTURE.md", "sample-runs/README.md", "python/README.md", "sample-runs/report/report.md"] + docs.sorted()
    }

    @Test func theCommandTableIsTheCLI() throws {
        let help = try HostileInputTests.spt(["--help"])
        // A subcommand's line is indented two spaces; its wrapped description, further.
        let listed = help.output.components(separatedBy: "SUBCOMMANDS:").last!.split(separator: "\n")
            .filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }.filter { $0 != "help" && $0 != "See" }
        let readme = try Self.read("README.md").split(separator: "\n")
            .compactMap { line -> String? in
                guard line.hasPrefix("| `spt ") else { return nil }
                return line.dropFirst("| `spt ".count).prefix { $0 != "`" }.description
            }
        #expect(!listed.isEmpty && readme.sorted() == listed.sorted(), "README's commands \(readme), spt's \(listed)")
    }

    @Test func everyDocsPageIsLinkedFromTheREADME() throws {
        let readme = try Self.read("README.md")
        for page in try Self.markdownFiles() where page.hasPrefix("docs/") {
            #expect(readme.contains("](\(page))"), "README does not link \(page)")
        }
    }

    /// GitHub's anchor of a heading: lower case, punctuation but `-` and `_` dropped, spaces as `-`.
    static func anchor(_ heading: String) -> String {
        String(heading.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" || $0 == " " }
            .map { $0 == " " ? "-" : Character($0) })
    }

    @Test func noRelativeLinkIsBroken() throws {
        let link = try Regex(#"\]\(([^)\s]+)\)"#)
        for file in try Self.markdownFiles() {
            let text = try Self.read(file)
            let dir = (file as NSString).deletingLastPathComponent
            for match in text.matches(of: link) {
                let target = String(match.output[1].substring!)
                guard !target.hasPrefix("http://"), !target.hasPrefix("https://"), !target.hasPrefix("mailto:") else { continue }
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let path = parts[0].isEmpty ? file : ((dir as NSString).appendingPathComponent(parts[0]) as NSString).standardizingPath
                #expect(FileManager.default.fileExists(atPath: repositoryRoot + "/" + path), "\(file): broken link \(target)")
                if parts.count == 2, path.hasSuffix(".md"), let linked = try? Self.read(path) {
                    let anchors = linked.split(separator: "\n").filter { $0.hasPrefix("#") }
                        .map { Self.anchor($0.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)) }
                    #expect(anchors.contains(parts[1]), "\(file): no heading for #\(parts[1]) in \(path)")
                }
            }
        }
    }
}
