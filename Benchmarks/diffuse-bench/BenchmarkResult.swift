import DiffusionCore
import Foundation

/// Runs `body` once and returns its result and its wall time in seconds.
func timed<T>(_ body: () throws -> T) rethrows -> (result: T, seconds: Double) {
    let start = Date()
    let result = try body()
    return (result, Date().timeIntervalSince(start))
}

/// Runs `body` once, under `Profile.measuring` when `profiling`, and returns its result, its wall
/// time and, when profiled, the per-kind summary for the result's "profile" field.
func timed<T>(profiling: Bool, _ body: () throws -> T) rethrows
    -> (result: T, seconds: Double, profile: [String: [String: Double]]?)
{
    let ((result, layers), seconds) = try timed {
        profiling ? try Profile.measuring(body) : (try body(), nil)
    }
    return (result, seconds, layers.map { profileSummary($0, seconds: seconds) })
}

/// Prints a benchmark's result as one JSON line (what side_by_side.py reads), with the
/// process's peak resident memory and the machine (`Machine.fields`); numbers with a fraction are rounded to 3 decimals (milliseconds).
func printResult(_ fields: [String: Any]) throws {
    var fields = fields.mapValues { value -> Any in
        guard let seconds = value as? Double else { return value }
        return (seconds * 1000).rounded() / 1000
    }
    fields["peak_rss_bytes"] = PeakMemory.bytes
    fields.merge(Machine.fields) { ours, _ in ours }
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

/// Seconds, share of `seconds`, calls and GFLOP/s per layer kind, plus "other" (everything
/// outside those layers: elementwise ops, copies, the time embedding); also printed as a table
/// on stderr.
func profileSummary(_ profile: Profile, seconds: Double) -> [String: [String: Double]] {
    var summary: [String: [String: Double]] = [:]
    var table = "kind            seconds  share  calls  GFLOP/s\n"
    func add(_ name: String, _ totals: Profile.Totals) {
        let rate = totals.flops > 0 ? totals.flops / totals.seconds / 1e9 : 0
        summary[name] = ["seconds": totals.seconds, "share": totals.seconds / seconds, "calls": Double(totals.calls), "gflops_per_second": rate]
        table += name.padding(toLength: 14, withPad: " ", startingAt: 0)
            + String(format: " %8.2f %5.1f%% %6d %8.1f\n", totals.seconds, 100 * totals.seconds / seconds, totals.calls, rate)
    }
    let totals = profile.totals
    for kind in Profile.Kind.allCases { add(kind.rawValue, totals[kind] ?? Profile.Totals()) }
    var other = Profile.Totals()
    other.seconds = seconds - totals.values.reduce(0) { $0 + $1.seconds }
    add("other", other)
    FileHandle.standardError.write(Data(table.utf8))
    return summary
}
