import ArgumentParser
import Foundation
import SPTDashboard
import SPTTerminal

@main
struct SPTTUI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spt-tui", abstract: "Live dashboard: train and compare prompt initializations.")

    func run() throws {
        let term = Terminal()
        term.start()
        defer { term.stop() }
        while true {
            let (w, h) = term.size
            var buf = CellBuffer(width: w, height: h)
            buf.put("spt-tui — press q to quit", x: 1, y: 0, role: .title, attrs: .bold)
            term.draw(buf)
            if let k = term.readKey() {
                if k == .char("q") { break }
                if k == .resize { term.invalidate() }
            }
            usleep(20_000)
        }
    }
}
