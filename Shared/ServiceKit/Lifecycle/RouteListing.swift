import Foundation

/// `--print-routes`: the routes a service registered, as a JSON array of `"METHOD /path"`
/// strings on standard output, after which the process exits without serving. Nothing has
/// connected anywhere by then (pools and clients connect when they run).
enum RouteListing {
    static func printAndExit(_ routes: [String]) -> Never {
        let data = (try? JSONSerialization.data(withJSONObject: routes.sorted(), options: [.sortedKeys])) ?? Data("[]".utf8)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
        exit(0)
    }
}
