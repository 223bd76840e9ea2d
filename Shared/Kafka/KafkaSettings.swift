public import ServiceKit

/// How a service reaches the Kafka cluster.
public struct KafkaSettings: Sendable, Equatable {
    /// `KAFKA_BROKERS`: bootstrap servers as `host:port` pairs.
    public var brokers: [String]

    /// `KAFKA_BROKERS`.
    public static let brokersKey = SettingKey(
        "kafka.brokers", expecting: "a comma-separated list of host:port, for example 127.0.0.1:9092"
    )

    /// Reads the Kafka settings; `KAFKA_BROKERS` is required.
    public static func read(from settings: Settings) throws(ConfigurationError) -> KafkaSettings {
        try KafkaSettings(brokers: settings.parsed(brokersKey, parseBrokers))
    }

    /// Parses `host:port[,host:port…]`; nil when any entry is malformed.
    static func parseBrokers(_ raw: String) -> [String]? {
        let entries = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !entries.isEmpty else { return nil }
        for entry in entries {
            guard let colon = entry.lastIndex(of: ":"),
                  !entry[..<colon].isEmpty,
                  let port = Int(entry[entry.index(after: colon)...]), (1...65_535).contains(port)
            else { return nil }
        }
        return entries
    }
}
