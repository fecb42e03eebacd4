import ArgumentParser
import SPTEngine

/// The strategies of a session (`spt compare`, `spt-tui`): one run each.
public struct StrategyFlags: ParsableArguments {
    public init() {}
    @Option(parsing: .upToNextOption, help: "Strategies, one run each (default: all).") public var strategies: [InitStrategy] = InitStrategy.allCases

    public func validate() throws {
        try OptionCheck.require(!strategies.isEmpty, "strategies", "", "name at least one")
    }
}
