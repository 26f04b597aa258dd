import Foundation

/// Where a computation spends its time, by layer kind: `diffuse-bench unet --profile` prints it
/// for Docs/PERFORMANCE.md's table.
///
/// ```swift
/// let (output, profile) = Profile.measuring { unet(latents, ...) }
/// profile.totals[.convolution]?.seconds
/// ```
/// Layers called inside `measuring`, on that thread, add their time; elsewhere a layer pays one
/// task-local read per call. FLOPs count the direct algorithm's multiply-adds x 2 (a Winograd
/// convolution is credited with the 3x3 work it replaces), so rates compare with the machine's peak.
public final class Profile: @unchecked Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        case convolution, linear, attention, normalization
    }

    public struct Totals: Sendable {
        public var seconds = 0.0
        public var flops = 0.0
        public var calls = 0
        public init() {}
    }

    @TaskLocal static var current: Profile?
    private let lock = NSLock()
    private var recorded: [Kind: Totals] = [:]

    /// The time, FLOPs and calls of each kind so far.
    public var totals: [Kind: Totals] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    /// Runs `body` with profiling on and returns its result with the profile.
    public static func measuring<R>(_ body: () throws -> R) rethrows -> (R, Profile) {
        let profile = Profile()
        let result = try $current.withValue(profile, operation: body)
        return (result, profile)
    }

    /// Runs `body`, adding its time and `flops` to `kind` when a profile is being taken.
    @inline(__always)
    static func measure<R>(_ kind: Kind, flops: @autoclosure () -> Double, _ body: () -> R) -> R {
        guard let profile = current else { return body() }
        let start = DispatchTime.now().uptimeNanoseconds
        let result = body()
        profile.add(kind, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, flops: flops())
        return result
    }

    private func add(_ kind: Kind, seconds: Double, flops: Double) {
        lock.lock()
        recorded[kind, default: Totals()].seconds += seconds
        recorded[kind, default: Totals()].flops += flops
        recorded[kind, default: Totals()].calls += 1
        lock.unlock()
    }
}
