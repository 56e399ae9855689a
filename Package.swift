// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "npr-tsb-stream",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "intake", targets: ["intake"]),
        .executable(name: "episode-linker", targets: ["episode-linker"]),
        .executable(name: "indicator-calculator", targets: ["indicator-calculator"]),
        .executable(name: "mortality-linker", targets: ["mortality-linker"]),
        .executable(name: "publisher", targets: ["publisher"]),
        .executable(name: "kafka-dev-broker", targets: ["kafka-dev-broker"]),
        .executable(name: "npr-ops", targets: ["npr-ops"]),
        .executable(name: "npr-bench", targets: ["npr-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // librdkafka from Debian (librdkafka-dev), and a small C shim over its vararg produce API.
        .systemLibrary(name: "CRdKafka", path: "Shared/CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .target(name: "CKafkaShim", dependencies: ["CRdKafka"], path: "Shared/CKafkaShim"),
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka", "CKafkaShim",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ], path: "Shared/Kafka", swiftSettings: swiftSettings),

        // Pure domain core: events in, state and cells out, no I/O.
        .target(name: "NPRCore", path: "Shared/NPRCore", swiftSettings: swiftSettings),
        .target(name: "EpisodeLinking", dependencies: ["NPRCore"], path: "Shared/EpisodeLinking", swiftSettings: swiftSettings),
        .target(name: "IndicatorCalculation", dependencies: ["NPRCore", "EpisodeLinking"], path: "Shared/IndicatorCalculation", swiftSettings: swiftSettings),
        .target(name: "MortalityLinking", dependencies: ["NPRCore"], path: "Shared/MortalityLinking", swiftSettings: swiftSettings),
        .target(
            name: "Publishing", dependencies: ["NPRCore"], path: "Shared/Publishing", resources: [.copy("Resources/labels.json")],
            swiftSettings: swiftSettings),
        .target(name: "IntakeValidation", dependencies: ["NPRCore"], path: "Shared/IntakeValidation", swiftSettings: swiftSettings),
        // Intake's decisions (idempotency, revisions, routing, reporting quality), pure.
        .target(
            name: "IntakeLedger",
            dependencies: ["NPRCore", "IntakeValidation", "StreamCodec", .product(name: "Crypto", package: "swift-crypto")],
            path: "Shared/IntakeLedger", swiftSettings: swiftSettings),
        .target(name: "SyntheticData", dependencies: ["NPRCore"], path: "Shared/SyntheticData", swiftSettings: swiftSettings),
        .target(name: "StreamCodec", dependencies: ["NPRCore"], path: "Shared/StreamCodec", swiftSettings: swiftSettings),
        // The published values computed from scratch, for tests and benchmarks.
        .target(
            name: "PipelineReference", dependencies: ["NPRCore", "EpisodeLinking", "IndicatorCalculation", "MortalityLinking", "Publishing", "SyntheticData"],
            path: "Shared/PipelineReference", swiftSettings: swiftSettings),

        // Service runtime: configuration, logging, metrics, health, HTTP, lifecycle, state store, pipeline.
        .target(
            name: "ServiceRuntime",
            dependencies: [
                "Kafka", "NPRCore", "StreamCodec",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ], path: "Shared/ServiceRuntime", swiftSettings: swiftSettings),

        .executableTarget(
            name: "intake",
            dependencies: [
                "ServiceRuntime", "IntakeValidation", "IntakeLedger", .product(name: "Crypto", package: "swift-crypto"),
            ], path: "Services/intake", resources: [.copy("openapi.json")], swiftSettings: swiftSettings),
        .executableTarget(
            name: "episode-linker", dependencies: ["ServiceRuntime", "EpisodeLinking"],
            path: "Services/episode-linker", swiftSettings: swiftSettings),
        .executableTarget(
            name: "indicator-calculator", dependencies: ["ServiceRuntime", "IndicatorCalculation"],
            path: "Services/indicator-calculator", swiftSettings: swiftSettings),
        .executableTarget(
            name: "mortality-linker", dependencies: ["ServiceRuntime", "MortalityLinking"],
            path: "Services/mortality-linker", swiftSettings: swiftSettings),
        .executableTarget(
            name: "publisher", dependencies: ["ServiceRuntime", "Publishing"],
            path: "Services/publisher", resources: [.copy("Dashboard"), .copy("openapi.json")], swiftSettings: swiftSettings),
        .executableTarget(
            name: "kafka-dev-broker", dependencies: ["Kafka", "NPRCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Services/kafka-dev-broker", swiftSettings: swiftSettings),
        .executableTarget(
            name: "npr-ops",
            dependencies: [
                "ServiceRuntime", "SyntheticData", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], path: "Services/npr-ops", swiftSettings: swiftSettings),
        .executableTarget(
            name: "npr-bench",
            dependencies: [
                "Kafka", "EpisodeLinking", "IndicatorCalculation", "MortalityLinking", "SyntheticData", "StreamCodec", "PipelineReference", "Publishing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], path: "Services/npr-bench", swiftSettings: swiftSettings),

        .testTarget(name: "EpisodeLinkingTests", dependencies: ["NPRCore", "EpisodeLinking", "SyntheticData"], path: "Tests/EpisodeLinkingTests"),
        .testTarget(
            name: "IndicatorCalculationTests", dependencies: ["NPRCore", "EpisodeLinking", "IndicatorCalculation", "SyntheticData"],
            path: "Tests/IndicatorCalculationTests"),
        .testTarget(
            name: "MortalityLinkingTests", dependencies: ["NPRCore", "MortalityLinking", "SyntheticData"], path: "Tests/MortalityLinkingTests"),
        .testTarget(
            name: "PublishingTests", dependencies: ["NPRCore", "Publishing", "SyntheticData", "IndicatorCalculation", "MortalityLinking"],
            path: "Tests/PublishingTests"),
        .testTarget(name: "IntakeValidationTests", dependencies: ["NPRCore", "IntakeValidation", "SyntheticData"], path: "Tests/IntakeValidationTests"),
        .testTarget(
            name: "IntakeLedgerTests",
            dependencies: ["NPRCore", "IntakeValidation", "IntakeLedger", "SyntheticData", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/IntakeLedgerTests"),
        .testTarget(name: "SyntheticDataTests", dependencies: ["NPRCore", "SyntheticData"], path: "Tests/SyntheticDataTests"),
        .testTarget(
            name: "WireFormTests",
            dependencies: [
                "NPRCore", "StreamCodec", "EpisodeLinking", "IndicatorCalculation", "MortalityLinking", "SyntheticData", "Publishing",
            ], path: "Tests/WireFormTests"),
        .testTarget(name: "OperationsTests", dependencies: ["Kafka", "ServiceRuntime"], path: "Tests/OperationsTests"),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Kafka", "NPRCore", "SyntheticData", "ServiceRuntime", "EpisodeLinking", "IndicatorCalculation", "MortalityLinking", "Publishing",
                "StreamCodec",
                "IntakeValidation",
                "PipelineReference", .product(name: "Crypto", package: "swift-crypto"),
            ], path: "Tests/IntegrationTests"),
    ]
)
