// swift-tools-version:6.0
import Foundation
import PackageDescription

// Release builds of the engine target AVX2+FMA ("haswell"): without a target CPU, Swift emits
// baseline SSE2 code in which SIMD multiply-adds become per-lane library calls (see docs/performance.md).
// Debug builds (what `swift test` builds) optimize the engine too, keeping bounds and overflow
// checks: unoptimized, the tests that train on a real backbone took minutes. -Ounchecked is for
// the engine's kernels only: the readers of users' files (SPTFormats) keep every check.
// The engine's kernels hand raw pointers to parallel loops, which Swift 6 mode rejects as
// non-Sendable captures; its data races are ruled out by disjoint index ranges instead.
let engineSettings: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"], .when(configuration: .release)),
    .unsafeFlags(["-O", "-target-cpu", "haswell"], .when(configuration: .debug)),
    .swiftLanguageMode(.v5),
]

let package = Package(
    name: "spt-tui",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "spt", targets: ["spt"]),
        .executable(name: "spt-tui", targets: ["spt-tui"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CNcurses", path: "Sources/CNcurses", pkgConfig: "ncursesw",
                       providers: [.apt(["libncurses-dev"])]),
        .systemLibrary(name: "CPng", path: "Sources/CPng", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),

        // libjpeg-turbo's decoder behind a C function: its errors longjmp, which Swift cannot.
        .target(name: "CJpeg", linkerSettings: [.linkedLibrary("jpeg")]),
        // PNG through libpng's low-level reader, converted as Pillow converts (its errors longjmp: C only).
        .target(name: "CPngDecode", dependencies: ["CPng"]),
        // bf16 matrix products through oneDNN (C: its API is structs and out-parameters).
        .target(name: "CBF16", linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp")]),

        // Readers of files users bring, compiled with bounds and overflow checks (never -Ounchecked).
        // The file rules every reader and writer follows: the output rule (temporary file, fsync,
        // rename; inputs never overwritten), only regular files read, JSON with byte offsets.
        .target(name: "SPTFiles"),
        .target(name: "SPTFormats", dependencies: ["CZlib", "CPng", "CJpeg", "CPngDecode", "SPTFiles"]),
        .target(name: "SPTEngine", dependencies: ["COpenBLAS", "CBF16", "SPTFormats", "SPTFiles", "SPTRuns"],
                resources: [.copy("Backbones")], swiftSettings: engineSettings),
        .target(name: "SPTRuns", dependencies: ["SPTFiles", "CZlib"]),
        .target(name: "SPTDashboard", dependencies: ["SPTRuns"]),
        .target(name: "CTerminalRestore", dependencies: ["CNcurses"]),
        .target(name: "SPTTerminal", dependencies: ["CNcurses", "CTerminalRestore", "SPTDashboard"]),

        // Flags both executables declare, parsed one way.
        .target(name: "SPTCommandLine", dependencies: ["SPTEngine", "SPTRuns", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // No ncurses in the headless CLI: its bench times a frame with SPTDashboard's pure diff.
        .executableTarget(name: "spt", dependencies: [
            "SPTEngine", "SPTRuns", "SPTDashboard", "SPTCommandLine", "SPTReport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The dashboard program: its loop, behind a terminal backend and run sources (live engine,
        // replay, watch), so tests drive it in-process.
        .target(name: "SPTApp", dependencies: ["SPTEngine", "SPTRuns", "SPTDashboard"]),
        // spt report: figures as SVG and PNG (libpng through SPTFormats), colours from the dashboard's themes.
        .target(name: "SPTReport", dependencies: ["SPTRuns", "SPTFormats"]),
        .executableTarget(name: "spt-tui", dependencies: [
            "SPTEngine", "SPTRuns", "SPTDashboard", "SPTTerminal", "SPTCommandLine", "SPTApp",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Helpers every test target shares: snapshots with a line diff, temporary directories.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SPTEngineTests", dependencies: ["SPTEngine", "CPng", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "SPTRunsTests", dependencies: ["SPTRuns", "TestSupport"], exclude: ["Snapshots"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SPTReportTests", dependencies: ["SPTReport", "SPTRuns", "SPTFormats", "TestSupport"], exclude: ["Snapshots"]),
        .testTarget(name: "SPTDashboardTests", dependencies: ["SPTDashboard", "TestSupport"], exclude: ["Snapshots"]),
        .testTarget(name: "SPTTerminalTests", dependencies: ["SPTTerminal", "SPTDashboard", "SPTRuns", "TestSupport"]),
        .testTarget(name: "SPTAppTests", dependencies: ["SPTApp", "SPTCommandLine", "SPTEngine", "SPTDashboard", "SPTRuns", "TestSupport"]),
    ]
)

// libFuzzer targets for the readers of users' files, declared only when SPT_FUZZ is set: `make
// fuzz` (tools/fuzz.sh) builds them with -sanitize=fuzzer,address in a build folder of their own.
if ProcessInfo.processInfo.environment["SPT_FUZZ"] != nil {
    package.targets.append(.target(name: "FuzzDriver", path: "Fuzz/Driver"))
    for (name, module) in [("safetensors", "SPTFormats"), ("idx", "SPTFormats"), ("cifar", "SPTFormats"), ("png", "SPTFormats"), ("jpeg", "SPTFormats"), ("lists", "SPTFormats"), ("runlog", "SPTRuns"), ("wandb", "SPTRuns")] {
        package.targets.append(.executableTarget(name: "fuzz-\(name)", dependencies: ["FuzzDriver", .target(name: module)], path: "Fuzz/\(name)",
                                                 exclude: ["seeds"]))
    }
}
