import Foundation

/// Runs `body` once and returns its result and its wall time in seconds.
func timed<T>(_ body: () throws -> T) rethrows -> (result: T, seconds: Double) {
    let start = Date()
    let result = try body()
    return (result, Date().timeIntervalSince(start))
}

/// Prints a benchmark's result as one JSON line (what side_by_side.py reads), with the
/// process's peak resident memory; numbers with a fraction are rounded to 3 decimals (milliseconds).
func printResult(_ fields: [String: Any]) throws {
    var fields = fields.mapValues { value -> Any in
        guard let seconds = value as? Double else { return value }
        return (seconds * 1000).rounded() / 1000
    }
    fields["peak_rss_bytes"] = PeakMemory.bytes
    let json = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}

/// The process's peak resident memory, from Linux's /proc (VmHWM).
enum PeakMemory {
    static var bytes: Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              // "VmHWM:\t 7174844 kB": the number is padded to 8 columns, so the separator may be a lone tab.
              let kilobytes = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap({ Int($0) })
        else { return 0 }
        return kilobytes * 1024
    }

    /// Restarts the high-water mark at the current resident size (Linux: "5" to clear_refs).
    static func reset() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }
}
